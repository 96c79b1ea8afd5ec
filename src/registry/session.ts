/**
 * Requests to one registry with authentication and retries: the transport plus the
 * authenticator, and the one place that turns an error answer into a typed error.
 * Authorization only ever goes to the registry's own origin.
 */
import { OcifsError, type RegistryError } from '../errors.js';
import type { Authenticator } from './auth.js';
import { discard, dropBody, type HttpRequest, type HttpResponse, type HttpTransport } from './transport.js';
import { parseWireErrors, registryError, type RequestSubject } from './wire-errors.js';

const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface RegistryRequest extends HttpRequest {
  /** Token scopes this request needs (`repository:x:pull`); [] for /v2/. */
  scopes: string[];
  /** Whether a failed try may be repeated (false for upload steps that are not idempotent). */
  retry: boolean;
}

export class RegistrySession {
  constructor(
    readonly baseUrl: string,
    readonly transport: HttpTransport,
    readonly auth: Authenticator,
  ) {}

  get registry(): string {
    return this.transport.registry;
  }

  isRegistryOrigin(url: string): boolean {
    try {
      return new URL(url).origin === new URL(this.baseUrl).origin;
    } catch {
      return false;
    }
  }

  /** Sends with auth (answering challenges) and retries; any status is returned. */
  send(req: RegistryRequest): Promise<HttpResponse> {
    const t = this.transport;
    if (!this.isRegistryOrigin(req.url)) {
      // Another origin (an upload Location, a redirect target): never our credentials.
      return t.withRetries(req, () => t.once(req));
    }
    return t.withRetries(req, async () => {
      let authorization = await this.auth.upfront(req.scopes, req.signal);
      let res = await t.once(withAuthorization(req, authorization));
      // Two answers at most: a cached token refused as invalid_token gets one fresh token, and
      // a fresh token refused once more is final.
      for (let round = 0; res.status === 401 && round < 2; round++) {
        const next = await this.auth.answer(res, req.scopes, authorization, req.signal);
        if (next === undefined || next === authorization) break;
        await discard(res);
        authorization = next;
        res = await t.once(withAuthorization(req, authorization));
      }
      return res;
    });
  }

  /** Reads the error body (capped) and throws the RegistryError for this answer. */
  async fail(res: HttpResponse, subject: RequestSubject): Promise<never> {
    throw await this.errorFor(res, subject);
  }

  async errorFor(res: HttpResponse, subject: RequestSubject): Promise<RegistryError | OcifsError> {
    let body: Buffer = Buffer.alloc(0);
    try {
      body = await this.transport.readBody(res, MAX_ERROR_BODY_BYTES, 'the error answer');
    } catch {
      dropBody(res); // too big or broken: the status alone must do
    }
    if (res.status === 400 && /HTTP request to an HTTPS server/i.test(body.toString('utf8'))) {
      return new OcifsError('UNREACHABLE', `cannot reach ${this.registry} over plain HTTP: it speaks HTTPS`, {
        hint: 'drop --plain-http (and pass --ca-file or --insecure if its certificate is not trusted)',
      });
    }
    const auth = res.status === 401 ? await this.auth.outcome(res) : undefined;
    return registryError(res.status, res.url, parseWireErrors(body), subject, auth);
  }
}

function withAuthorization(req: HttpRequest, authorization: string | undefined): HttpRequest {
  if (!authorization) return req;
  return { ...req, headers: { ...req.headers, authorization } };
}
