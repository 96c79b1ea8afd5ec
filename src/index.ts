/**
 * ocifs as a library: the pieces under the CLI, as named exports.
 */
export * from './errors.js';
export * from './oci/types.js';
export type * from './oci/target.js';
export * from './ref/index.js';
export * from './oci/index.js';
