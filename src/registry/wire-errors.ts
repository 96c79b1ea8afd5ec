/**
 * Turning registry answers and connection failures into the project's typed errors: status +
 * distribution error codes -> ErrorCode, with messages that name what was asked for and a hint
 * saying what to do. Pure.
 */
import { OcifsError, RegistryError, type ErrorCode, type WireError } from '../errors.js';
import { networkErrorCode } from './retry.js';

/** What a request was about, for messages. */
export interface RequestSubject {
  registry: string;
  repository?: string;
  /** Tag or digest. */
  reference?: string;
  /** `fetch manifest`, `push blob`, `list tags`, ... */
  action: string;
}

/** How authentication went, when the final answer was 401. */
export interface AuthOutcome {
  /** Credentials were sent (Basic, or a token obtained with credentials). */
  withCredentials: boolean;
  username?: string;
  /** The `error` param of the last Bearer challenge (`invalid_token`, `insufficient_scope`). */
  challengeError?: string;
}

/** The `errors` array of a distribution-spec error body; [] when the body is not one. */
export function parseWireErrors(body: Buffer | string): WireError[] {
  let json: unknown;
  try {
    json = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    return [];
  }
  const errors = (json as { errors?: unknown })?.errors;
  if (!Array.isArray(errors)) return [];
  const out: WireError[] = [];
  for (const e of errors) {
    if (!e || typeof e !== 'object' || typeof (e as { code?: unknown }).code !== 'string') continue;
    const { code, message, detail } = e as { code: string; message?: unknown; detail?: unknown };
    out.push({ code, ...(typeof message === 'string' ? { message } : {}), ...(detail !== undefined ? { detail } : {}) });
  }
  return out;
}

const WIRE_CODE: Record<string, ErrorCode> = {
  MANIFEST_UNKNOWN: 'NOT_FOUND',
  BLOB_UNKNOWN: 'NOT_FOUND',
  NAME_UNKNOWN: 'NOT_FOUND',
  UNAUTHORIZED: 'UNAUTHORIZED',
  DENIED: 'DENIED',
  TOOMANYREQUESTS: 'TOO_MANY_REQUESTS',
};

/** The project code for an error answer: wire codes first (they are more precise), then the status. */
export function errorCodeFor(status: number, wireErrors: WireError[]): ErrorCode {
  for (const e of wireErrors) {
    const code = WIRE_CODE[e.code];
    if (code) return code;
  }
  if (status === 404) return 'NOT_FOUND';
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'DENIED';
  if (status === 429) return 'TOO_MANY_REQUESTS';
  return 'REGISTRY_ERROR';
}

export function describeSubject(s: RequestSubject): string {
  if (!s.repository) return s.registry;
  const ref = s.reference ? (s.reference.includes(':') ? `@${s.reference}` : `:${s.reference}`) : '';
  return `${s.registry}/${s.repository}${ref}`;
}

function wireSummary(wireErrors: WireError[]): string {
  return wireErrors.map((e) => (e.message ? `${e.code}: ${e.message}` : e.code)).join('; ');
}

/** A RegistryError for a final error answer, with a message and a hint for the user. */
export function registryError(
  status: number,
  url: string,
  wireErrors: WireError[],
  subject: RequestSubject,
  auth?: AuthOutcome,
): RegistryError {
  let code = errorCodeFor(status, wireErrors);
  const what = describeSubject(subject);
  const wire = wireSummary(wireErrors);
  const suffix = wire ? ` (${wire})` : '';
  let message: string;
  let hint: string | undefined;
  // A token that was issued with credentials but lacks the scope: the user is known, the action is not allowed.
  if (status === 401 && auth?.withCredentials && auth.challengeError === 'insufficient_scope') code = 'DENIED';
  switch (code) {
    case 'NOT_FOUND':
      message = `${subject.action}: ${what} not found${suffix}`;
      hint = subject.repository
        ? `check the name and tag, e.g. with \`ocifs ls ${subject.registry}/${subject.repository}\``
        : 'check the registry address';
      break;
    case 'UNAUTHORIZED':
      if (auth?.withCredentials) {
        message = `${subject.action}: ${subject.registry} rejected the credentials${auth.username ? ` of ${auth.username}` : ''} for ${what}${suffix}`;
        hint = `check the user name and password and run \`ocifs login ${subject.registry}\` again`;
      } else {
        message = `${subject.action}: ${what} needs authentication${suffix}`;
        hint = `run \`ocifs login ${subject.registry}\``;
      }
      break;
    case 'DENIED':
      message = `${subject.action}: access to ${what} denied${auth?.username ? ` for ${auth.username}` : ''}${suffix}`;
      hint = 'these credentials are not allowed to do this: use an account with access to the repository';
      break;
    case 'TOO_MANY_REQUESTS':
      message = `${subject.action}: ${subject.registry} is rate-limiting requests${suffix}`;
      hint = 'wait a while and try again, or log in for a higher limit';
      break;
    default:
      message = `${subject.action}: ${subject.registry} answered ${status} for ${what}${suffix}`;
      hint = status >= 500 ? 'the registry failed; try again later' : undefined;
  }
  return new RegistryError(code, message, { status, url, wireErrors }, hint ? { hint } : {});
}

/** Human words for a connection failure code. */
function describeNetworkCode(code: string): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'ENOTFOUND':
      return 'host not found';
    case 'EAI_AGAIN':
      return 'DNS lookup failed';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connection timed out';
    case 'UND_ERR_HEADERS_TIMEOUT':
      return 'no answer in time';
    case 'UND_ERR_BODY_TIMEOUT':
      return 'the answer stalled';
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return 'connection closed';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENETDOWN':
      return 'network unreachable';
    default:
      return code;
  }
}

/**
 * OcifsError('UNREACHABLE') for an error thrown by the HTTP layer (refused, reset, DNS, TLS,
 * timeout); undefined when `err` is not a connection failure.
 */
export function connectionError(err: unknown, registry: string): OcifsError | undefined {
  if (err instanceof OcifsError) return undefined;
  const code = networkErrorCode(err);
  const text = err instanceof Error ? err.message : String(err);
  if (code === undefined) {
    // TLS spoken to a plain HTTP server surfaces as an OpenSSL message without a code we know.
    if (/wrong version number|packet length too long|EPROTO/i.test(text) || (err as { code?: string })?.code === 'EPROTO') {
      return new OcifsError('UNREACHABLE', `cannot reach ${registry}: TLS handshake failed (${text})`, {
        cause: err,
        hint: 'the registry may speak plain HTTP: use --plain-http',
      });
    }
    return undefined;
  }
  if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST/.test(code)) {
    return new OcifsError('UNREACHABLE', `cannot reach ${registry}: TLS handshake failed (${code})`, {
      cause: err,
      hint: 'the registry may speak plain HTTP: use --plain-http',
    });
  }
  if (/CERT|TLS|SSL|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code)) {
    return new OcifsError('UNREACHABLE', `cannot reach ${registry}: its TLS certificate is not trusted (${code})`, {
      cause: err,
      hint: "pass the registry's CA with --ca-file, or --insecure to skip verification",
    });
  }
  return new OcifsError('UNREACHABLE', `cannot reach ${registry}: ${describeNetworkCode(code)}`, {
    cause: err,
    hint: 'check that the registry is running and the address is right',
  });
}
