/**
 * Docker credential helpers: `docker-credential-<name> get|store|erase`, talking JSON on
 * stdin/stdout (docker-credential-helpers protocol). The only place that spawns them.
 */
import { spawn } from 'node:child_process';
import { OcifsError } from '../errors.js';
import type { Credential } from './credentials.js';

/** Helpers say this (exit 1) when they hold nothing for the server. */
const NOT_FOUND = /credentials not found/i;
const HELPER_TIMEOUT_MS = 30_000;

interface HelperResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runHelper(helper: string, verb: string, input: string, env?: NodeJS.ProcessEnv): Promise<HelperResult> {
  const command = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = spawn(command, [verb], { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env, timeout: HELPER_TIMEOUT_MS });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new OcifsError('UNAUTHORIZED', `credential helper ${command} could not be run: ${err.message}`, {
          cause: err,
          hint:
            err.code === 'ENOENT'
              ? `install ${command} or remove it from credHelpers/credsStore in your Docker config.json`
              : undefined,
        }),
      );
    });
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => {
      /* the helper may exit before reading; its exit status tells what happened */
    });
    child.stdin.end(input);
  });
}

function helperFailure(helper: string, verb: string, r: HelperResult): OcifsError {
  const said = (r.stdout.trim() || r.stderr.trim()).split('\n')[0] ?? '';
  return new OcifsError('UNAUTHORIZED', `credential helper docker-credential-${helper} ${verb} failed (exit ${r.code})${said ? `: ${said}` : ''}`, {
    hint: 'check the credential helper, or log in again with `ocifs login`',
  });
}

/** `get`: undefined when the helper holds nothing for `serverUrl`. */
export async function helperGet(helper: string, serverUrl: string, env?: NodeJS.ProcessEnv): Promise<Credential | undefined> {
  const r = await runHelper(helper, 'get', serverUrl, env);
  if (r.code !== 0) {
    if (NOT_FOUND.test(r.stdout) || NOT_FOUND.test(r.stderr)) return undefined;
    throw helperFailure(helper, 'get', r);
  }
  let json: { Username?: unknown; Secret?: unknown };
  try {
    json = JSON.parse(r.stdout) as typeof json;
  } catch {
    throw new OcifsError('INVALID_CONTENT', `credential helper docker-credential-${helper} printed something that is not JSON`);
  }
  const username = typeof json.Username === 'string' ? json.Username : '';
  const secret = typeof json.Secret === 'string' ? json.Secret : '';
  if (!secret) return undefined;
  // Helpers mark an identity token with the user name `<token>` (docker-credential-helpers).
  if (username === '<token>') return { identityToken: secret };
  return { username, password: secret };
}

export async function helperStore(helper: string, serverUrl: string, username: string, secret: string, env?: NodeJS.ProcessEnv): Promise<void> {
  const r = await runHelper(helper, 'store', JSON.stringify({ ServerURL: serverUrl, Username: username, Secret: secret }), env);
  if (r.code !== 0) throw helperFailure(helper, 'store', r);
}

export async function helperErase(helper: string, serverUrl: string, env?: NodeJS.ProcessEnv): Promise<void> {
  const r = await runHelper(helper, 'erase', serverUrl, env);
  if (r.code !== 0 && !NOT_FOUND.test(r.stdout + r.stderr)) throw helperFailure(helper, 'erase', r);
}
