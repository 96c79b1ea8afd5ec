/**
 * Authentication for one registry, as distribution's token spec and Docker clients do it:
 * anonymous first; on a 401, answer its `WWW-Authenticate` challenge with Basic credentials or a
 * Bearer token from the challenge's realm (GET with Basic, or POST with a refresh token), cached
 * per scope set until it expires. Once a scheme is known, later requests carry it up front, so
 * each new scope costs one token fetch and no extra 401.
 */
import { InvalidContentError, RegistryError } from '../errors.js';
import { parseChallenges, preferredChallenge, type Challenge } from './challenge.js';
import { credentialUsername, type Credential, type CredentialProvider } from './credentials.js';
import { normalizeScopes, scopeKey } from './scope.js';
import { TokenCache, DEFAULT_TOKEN_LIFETIME_S } from './token-cache.js';
import type { HttpResponse, HttpTransport } from './transport.js';
import { parseWireErrors, registryError, type AuthOutcome } from './wire-errors.js';

const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;
const CLIENT_ID = 'ocifs';

export interface AuthenticatorOptions {
  registry: string;
  credentials: CredentialProvider;
  transport: HttpTransport;
  now?: () => number;
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

export class Authenticator {
  private scheme: 'basic' | 'bearer' | undefined;
  private realm: string | undefined;
  private service: string | undefined;
  private credential: Promise<Credential | undefined> | undefined;
  private readonly tokens: TokenCache;
  private readonly registry: string;
  private readonly provider: CredentialProvider;
  private readonly transport: HttpTransport;

  constructor(options: AuthenticatorOptions) {
    this.registry = options.registry;
    this.provider = options.credentials;
    this.transport = options.transport;
    this.tokens = new TokenCache(options.now);
  }

  /** Credentials are looked up once per client (a helper may be a slow process); a failed lookup is tried again next time. */
  credentials(): Promise<Credential | undefined> {
    if (!this.credential) {
      const lookup = this.provider.get(this.registry);
      this.credential = lookup;
      lookup.catch(() => {
        if (this.credential === lookup) this.credential = undefined;
      });
    }
    return this.credential;
  }

  /** The Authorization header to send before any challenge, from what earlier answers taught us. */
  async upfront(scopes: string[], signal?: AbortSignal): Promise<string | undefined> {
    if (this.scheme === 'basic') {
      const c = await this.credentials();
      return c && 'password' in c ? basicAuthorization(c.username, c.password) : undefined;
    }
    if (this.scheme === 'bearer' && this.realm) {
      const key = scopeKey(scopes);
      const cached = this.tokens.get(key);
      if (cached) return `Bearer ${cached}`;
      const realm = this.realm;
      const service = this.service;
      return `Bearer ${await this.tokens.shared(key, () => this.obtain(key, realm, service, normalizeScopes(scopes), signal))}`;
    }
    return undefined;
  }

  /**
   * A 401 arrived for a request that sent `sent`: the Authorization to try next, or undefined
   * when there is nothing new to try (the caller then reports the 401).
   */
  async answer(res: HttpResponse, scopes: string[], sent: string | undefined, signal?: AbortSignal): Promise<string | undefined> {
    const challenge = preferredChallenge(parseChallenges(res.headers['www-authenticate']));
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') {
      this.scheme = 'basic';
      const c = await this.credentials();
      if (!c || !('password' in c)) return undefined;
      const authorization = basicAuthorization(c.username, c.password);
      return authorization === sent ? undefined : authorization;
    }
    const realm = challenge.params.realm;
    if (!realm) return undefined;
    this.scheme = 'bearer';
    this.realm = realm;
    this.service = challenge.params.service;
    const key = scopeKey(scopes);
    // Whatever we sent was refused (expired, or lacking a scope): ask for a new one, never reuse it.
    this.tokens.delete(key);
    const wanted = normalizeScopes([...scopes, ...(challenge.params.scope ?? '').split(' ')]);
    const service = challenge.params.service;
    return `Bearer ${await this.tokens.shared(key, () => this.obtain(key, realm, service, wanted, signal))}`;
  }

  /** How authentication went, for the error of a final 401. */
  async outcome(res: HttpResponse): Promise<AuthOutcome> {
    const c = await this.credentials().catch(() => undefined);
    const challenge: Challenge | undefined = preferredChallenge(parseChallenges(res.headers['www-authenticate']));
    const username = credentialUsername(c);
    return {
      withCredentials: c !== undefined,
      ...(username !== undefined ? { username } : {}),
      ...(challenge?.params.error !== undefined ? { challengeError: challenge.params.error } : {}),
    };
  }

  private async obtain(key: string, realm: string, service: string | undefined, scopes: string[], signal?: AbortSignal): Promise<string> {
    const { token, lifetimeS } = await this.fetchToken(realm, service, scopes, signal);
    this.tokens.set(key, token, lifetimeS);
    return token;
  }

  private async fetchToken(
    realm: string,
    service: string | undefined,
    scopes: string[],
    signal?: AbortSignal,
  ): Promise<{ token: string; lifetimeS: number }> {
    const c = await this.credentials();
    if (c && 'registryToken' in c) return { token: c.registryToken, lifetimeS: DEFAULT_TOKEN_LIFETIME_S };
    const t = this.transport;
    let res: HttpResponse;
    if (c && 'identityToken' in c) {
      // OAuth2 refresh-token grant (distribution docs/spec/auth/oauth.md): scopes space-separated.
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: c.identityToken, client_id: CLIENT_ID });
      if (service) form.set('service', service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      const body = Buffer.from(form.toString());
      res = await t.withRetries({ retry: true, signal }, () =>
        t.once({ method: 'POST', url: realm, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, ...(signal ? { signal } : {}) }),
      );
    } else {
      let url: URL;
      try {
        url = new URL(realm);
      } catch {
        throw new InvalidContentError(`${this.registry} named a token realm that is not a URL: ${JSON.stringify(realm)}`);
      }
      if (service) url.searchParams.set('service', service);
      for (const s of scopes) url.searchParams.append('scope', s);
      const headers: Record<string, string> = {};
      if (c && 'password' in c) {
        url.searchParams.set('account', c.username);
        headers.authorization = basicAuthorization(c.username, c.password);
      }
      res = await t.withRetries({ retry: true, signal }, () => t.once({ method: 'GET', url: url.toString(), headers, ...(signal ? { signal } : {}) }));
    }
    const username = credentialUsername(c);
    if (res.status === 401 || res.status === 403) {
      const wire = parseWireErrors(await t.readBody(res, 64 * 1024, 'token error').catch(() => Buffer.alloc(0)));
      const message = c
        ? `${this.registry} rejected the credentials${username ? ` of ${username}` : ''} (token service answered ${res.status})`
        : `${this.registry} refused an anonymous token (token service answered ${res.status})`;
      throw new RegistryError('UNAUTHORIZED', message, { status: res.status, url: realm, wireErrors: wire }, {
        hint: c ? `check the user name and password and run \`ocifs login ${this.registry}\` again` : `run \`ocifs login ${this.registry}\``,
      });
    }
    if (res.status !== 200) {
      const wire = parseWireErrors(await t.readBody(res, 64 * 1024, 'token error').catch(() => Buffer.alloc(0)));
      throw registryError(res.status, realm, wire, { registry: this.registry, action: 'get a token' });
    }
    const text = await t.readBody(res, MAX_TOKEN_RESPONSE_BYTES, 'the token answer');
    let json: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      json = JSON.parse(text.toString('utf8')) as typeof json;
    } catch {
      throw new InvalidContentError(`the token service of ${this.registry} answered something that is not JSON`);
    }
    const token = typeof json.token === 'string' && json.token ? json.token : json.access_token;
    if (typeof token !== 'string' || !token) {
      throw new InvalidContentError(`the token service of ${this.registry} answered without a token`);
    }
    const lifetimeS = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : DEFAULT_TOKEN_LIFETIME_S;
    return { token, lifetimeS };
  }
}

