/**
 * src/registry — the distribution-spec client on undici: ping, manifests, tags and catalog
 * (paginated), blob HEAD/GET (whole, or by closed Range), uploads (monolithic, chunked,
 * resumable, cross-repository mount), manifest PUT; auth (anonymous, Basic, Bearer tokens with
 * scopes, Docker config.json and credential helpers), retries, redirects, TLS, typed errors.
 *
 * Owns HTTP to registries and nothing else: it does not cache (src/cache), does not touch the
 * disk except Docker's config.json and the upload-state file it is given, and maps no errors to
 * errno or exit codes (the edges do). Reading is via the ReadableTarget/WritableTarget contract
 * of src/oci/target.ts, which src/layout implements too.
 *
 * Modules: client (RegistryClient), repository (RepositoryTarget), upload (blob pushes),
 * session (auth + retries per request), transport (undici, stats), auth + token-cache,
 * challenge/scope/retry/wire-errors/link/content-range (pure), credentials + docker-config +
 * credential-helper, upload-state, chunk-reader.
 */
export { RegistryClient, DEFAULT_USER_AGENT, type RegistryClientOptions, type RangeSupport } from './client.js';
export { RepositoryTarget, MAX_LIST_PAGE_BYTES } from './repository.js';
export { StaticCredentials, NO_CREDENTIALS, credentialUsername, type Credential, type CredentialProvider } from './credentials.js';
export {
  DockerConfigCredentials,
  defaultDockerConfigDir,
  hostnameOfKey,
  serverUrlFor,
  DOCKER_HUB_SERVER_URL,
  type DockerConfigOptions,
} from './docker-config.js';
export { FileUploadStateStore, MemoryUploadStateStore, uploadKey, type UploadStateStore } from './upload-state.js';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.js';
export { DEFAULT_TIMEOUTS, type ClientStats, type Timeouts } from './transport.js';
export { DEFAULT_CHUNK_SIZE, DEFAULT_MONOLITHIC_MAX } from './upload.js';
export { parseChallenges, type Challenge } from './challenge.js';
