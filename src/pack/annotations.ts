/**
 * ORAS's `--annotation-file` format, parsed and checked. Pure.
 *
 *   { "$manifest": {"k": "v"}, "$config": {"k": "v"}, "<file>": {"k": "v"}, ... }
 *
 * `<file>` names a file as given on the command line (as ORAS matches it) or a packed file's
 * title; a directory argument's key applies to every file below it. Keys that name nothing
 * packed are an error (ORAS ignores them silently; a typo should not go unnoticed).
 */
import { InvalidArgumentError } from '../errors.js';

export const MANIFEST_KEY = '$manifest';
export const CONFIG_KEY = '$config';

export interface AnnotationFile {
  manifest: Record<string, string>;
  config: Record<string, string>;
  /** Per-file annotations by the key used in the file. */
  files: Map<string, Record<string, string>>;
}

export function parseAnnotationFile(text: string, source: string): AnnotationFile {
  const fail = (why: string) =>
    new InvalidArgumentError(`invalid annotation file ${source}: ${why}`, {
      hint: 'expected {"$manifest": {"key": "value"}, "$config": {...}, "<file>": {...}}',
    });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw fail(`malformed JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(value)) throw fail('the top level must be a JSON object');
  const result: AnnotationFile = { manifest: {}, config: {}, files: new Map() };
  for (const [key, map] of Object.entries(value)) {
    const annotations = stringMap(map, (why) => fail(`${JSON.stringify(key)}: ${why}`));
    if (key === MANIFEST_KEY) result.manifest = annotations;
    else if (key === CONFIG_KEY) result.config = annotations;
    else if (key === '') throw fail('a file key is empty');
    else result.files.set(key, annotations);
  }
  return result;
}

/** Checks `--annotation`-style maps (string keys and values, nothing that could be a prototype). */
export function checkAnnotations(map: Record<string, string>, what: string): Record<string, string> {
  return stringMap(map, (why) => new InvalidArgumentError(`invalid ${what}: ${why}`));
}

function stringMap(value: unknown, fail: (why: string) => Error): Record<string, string> {
  if (!isPlainObject(value)) throw fail('must be an object of string values');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === '') throw fail('an annotation key is empty');
    if (k === '__proto__') throw fail('the annotation key "__proto__" is not allowed');
    if (typeof v !== 'string') throw fail(`the value of ${JSON.stringify(k)} must be a string, got ${v === null ? 'null' : typeof v}`);
    out[k] = v;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
