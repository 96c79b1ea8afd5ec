/**
 * Where registry credentials come from. The client only asks a CredentialProvider; Docker's
 * config.json (./docker-config.ts) is the default provider, tests and embedders pass their own.
 */

export type Credential =
  | { username: string; password: string }
  /** An OAuth2 refresh token (Docker's `identitytoken`), exchanged at the token realm by POST. */
  | { identityToken: string; username?: string }
  /** A bearer token to send as is (Docker's `registrytoken`). */
  | { registryToken: string };

export interface CredentialProvider {
  /** Credentials for a registry as written in references (`docker.io`, `127.0.0.1:5000`), or undefined. */
  get(registry: string): Promise<Credential | undefined>;
}

export class StaticCredentials implements CredentialProvider {
  private readonly map: Map<string, Credential>;
  constructor(map: Record<string, Credential>) {
    this.map = new Map(Object.entries(map));
  }
  async get(registry: string): Promise<Credential | undefined> {
    return this.map.get(registry);
  }
}

/** No credentials at all: anonymous access only. */
export const NO_CREDENTIALS: CredentialProvider = Object.freeze({ get: async () => undefined });

export function credentialUsername(credential: Credential | undefined): string | undefined {
  if (!credential) return undefined;
  if ('password' in credential) return credential.username;
  if ('identityToken' in credential) return credential.username;
  return undefined;
}
