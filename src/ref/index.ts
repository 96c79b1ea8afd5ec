/**
 * src/ref — names of things in registries: the reference grammar (`registry/repo:tag@digest`,
 * Docker Hub normalisation, registry hosts) and content digests. Pure: no network, no files,
 * no imports from any other ocifs folder except src/errors.ts.
 */
export * from './reference.js';
export * from './digest.js';
