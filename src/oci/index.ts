/**
 * src/oci — the OCI data model: media types, descriptor/manifest/index types, the target
 * interfaces every store implements, and validation of untrusted JSON into those types.
 * Pure: no network, no files; imports only src/ref and src/errors.ts.
 */
export * from './types.js';
export type * from './target.js';
export * from './media-type.js';
export * from './validate.js';
