/**
 * A small token server for distribution's `auth.token` (docs/spec/auth/token.md): it checks
 * Basic credentials (GET) or a refresh token / password (POST, docs/spec/auth/oauth.md), grants
 * each user the actions its role allows, and signs RS256 JWTs. distribution 2.8 finds the
 * signing key from the JWT header: `x5c` (a certificate chain verified against
 * `rootcertbundle`), `jwk`, or `kid` (a libtrust key fingerprint). We send `x5c` with the
 * self-signed signing certificate, which is also the whole `rootcertbundle`.
 */
import { createSign, randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { selfSignedCert } from './tls.js';

export type Role = 'pull' | 'push' | 'admin';

export interface TokenUser {
  password: string;
  role: Role;
}

export interface TokenServerOptions {
  /** Directory for the signing certificate (the caller removes it). */
  dir: string;
  users: Record<string, TokenUser>;
  /** Refresh tokens (Docker's `identitytoken`) -> user name. */
  refreshTokens?: Record<string, string>;
  service?: string;
  issuer?: string;
  /** `expires_in` of issued tokens, seconds. */
  lifetimeS?: number;
  /** Which field carries the token in the answer. */
  tokenField?: 'token' | 'access_token' | 'both';
}

export interface TokenRequest {
  method: string;
  user: string | undefined;
  scopes: string[];
  granted: { type: string; name: string; actions: string[] }[];
  status: number;
}

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  /** PEM path for the registry's `rootcertbundle`. */
  rootCertBundle: string;
  requests: TokenRequest[];
  /** Registry config lines (`auth.token`) for this server. */
  registryConfig(): string;
  /** Which field carries the token from now on. */
  setTokenField(field: 'token' | 'access_token' | 'both'): void;
  /** The next `n` tokens are already expired (past distribution's 60 s leeway) though `expires_in` says otherwise. */
  issueExpired(n?: number): void;
  stop(): Promise<void>;
}

const ACTIONS: Record<Role, string[]> = { pull: ['pull'], push: ['pull', 'push'], admin: ['pull', 'push', 'delete', '*'] };

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const service = options.service ?? 'ocifs-test-registry';
  const issuer = options.issuer ?? 'ocifs-test-issuer';
  const lifetimeS = options.lifetimeS ?? 300;
  const { cert, key } = selfSignedCert(options.dir, 'token-signer');
  const keyPem = readFileSync(key, 'utf8');
  const certDer = new X509Certificate(readFileSync(cert)).raw;
  const requests: TokenRequest[] = [];
  let tokenField = options.tokenField ?? 'both';
  let expiredToIssue = 0;

  function sign(subject: string, access: TokenRequest['granted']): string {
    const now = Math.floor(Date.now() / 1000);
    const headerJson = { typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] };
    let exp = now + lifetimeS;
    if (expiredToIssue > 0) {
      expiredToIssue--;
      exp = now - 120;
    }
    const claims = { iss: issuer, sub: subject, aud: service, exp, nbf: now - 300, iat: now - 300, jti: randomUUID(), access };
    const input = `${b64url(JSON.stringify(headerJson))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(input).sign(keyPem);
    return `${input}.${b64url(signature)}`;
  }

  function grant(user: string | undefined, scopes: string[]): TokenRequest['granted'] {
    const role = user ? options.users[user]?.role : undefined;
    const allowed = role ? ACTIONS[role] : [];
    const out: TokenRequest['granted'] = [];
    for (const scope of scopes.flatMap((s) => s.split(' ')).filter(Boolean)) {
      const first = scope.indexOf(':');
      const last = scope.lastIndexOf(':');
      if (first < 0 || last === first) continue;
      const type = scope.slice(0, first);
      const name = scope.slice(first + 1, last);
      const wanted = scope.slice(last + 1).split(',');
      if (type === 'registry' && name === 'catalog') {
        if (role === 'admin') out.push({ type, name, actions: ['*'] });
        continue;
      }
      const actions = wanted.filter((a) => allowed.includes(a));
      if (actions.length) out.push({ type, name, actions });
    }
    return out;
  }

  function answer(res: ServerResponse, req: TokenRequest, subject: string | undefined): void {
    requests.push(req);
    if (req.status !== 200) {
      res.writeHead(req.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'invalid credentials' }] }));
      return;
    }
    const token = sign(subject ?? '', req.granted);
    const field = tokenField;
    const body: Record<string, unknown> = { expires_in: lifetimeS, issued_at: new Date().toISOString() };
    if (field !== 'access_token') body.token = token;
    if (field !== 'token') body.access_token = token;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  function handle(req: IncomingMessage, res: ServerResponse, form: URLSearchParams | undefined): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    if (form) {
      // OAuth2: refresh_token (identity token) or password grant.
      const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
      let user: string | undefined;
      if (form.get('grant_type') === 'refresh_token') user = options.refreshTokens?.[form.get('refresh_token') ?? ''];
      else if (form.get('grant_type') === 'password') {
        const u = form.get('username') ?? '';
        if (options.users[u]?.password === form.get('password')) user = u;
      }
      const status = user ? 200 : 401;
      answer(res, { method: 'POST', user, scopes, granted: user ? grant(user, scopes) : [], status }, user);
      return;
    }
    const scopes = url.searchParams.getAll('scope');
    const auth = req.headers.authorization;
    if (!auth) {
      // Anonymous: a token that grants nothing (as Docker Hub grants nothing on private repos).
      answer(res, { method: 'GET', user: undefined, scopes, granted: [], status: 200 }, undefined);
      return;
    }
    const m = /^Basic (.+)$/i.exec(auth);
    const decoded = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const user = decoded.slice(0, colon);
    const ok = colon > 0 && options.users[user]?.password === decoded.slice(colon + 1);
    answer(res, { method: 'GET', user: ok ? user : undefined, scopes, granted: ok ? grant(user, scopes) : [], status: ok ? 200 : 401 }, user);
  }

  const server = createServer((req, res) => {
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => handle(req, res, new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
      return;
    }
    handle(req, res, undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const realm = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  return {
    realm,
    service,
    issuer,
    rootCertBundle: cert,
    requests,
    setTokenField: (field) => void (tokenField = field),
    issueExpired: (n = 1) => void (expiredToIssue += n),
    registryConfig: () =>
      ['auth:', '  token:', `    realm: ${realm}`, `    service: ${service}`, `    issuer: ${issuer}`, `    rootcertbundle: ${cert}`].join('\n'),
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
