/**
 * Checks JSON against the OCI image-spec's own JSON schemas (draft-04, stored in
 * test/fixtures/image-spec-schema/, see its README), so interop tests judge what ocifs writes by
 * the spec's schemas rather than by ocifs's own validator.
 *
 * The schema files are used unchanged on disk; when loading, three things are adjusted so that a
 * standard validator resolves them as image-spec's Go loader does (which maps file names itself):
 * each file gets an id under one base so that `defs.json#/...` refs find their file, nested `id`s
 * (which would re-base those refs) are dropped, and `$schema` is the draft-04 URI ajv knows.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ajvDraft04 from 'ajv-draft-04';
import type { ErrorObject, ValidateFunction } from 'ajv-draft-04';

export type OciSchemaKind = 'manifest' | 'index' | 'layout' | 'config';

const SCHEMA_FILES: Record<OciSchemaKind, string> = {
  manifest: 'image-manifest-schema.json',
  index: 'image-index-schema.json',
  layout: 'image-layout-schema.json',
  config: 'config-schema.json',
};

export const SCHEMA_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'image-spec-schema');
const BASE = 'https://schemas.ocifs.test/image-spec/';
const DRAFT_04 = 'http://json-schema.org/draft-04/schema#';
/** Keywords whose values are maps of names to schemas: their keys are names, not keywords. */
const NAME_MAPS = new Set(['properties', 'patternProperties', 'definitions']);

/** The loader adjustments described in the module comment, on a fresh copy. */
function prepare(schema: unknown, file: string, isRoot = true, inNameMap = false): unknown {
  if (Array.isArray(schema)) return schema.map((s) => prepare(s, file, false));
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (!inNameMap && key === 'id' && typeof value === 'string') continue;
    if (!inNameMap && key === '$schema') continue;
    out[key] = prepare(value, file, false, !inNameMap && NAME_MAPS.has(key));
  }
  if (isRoot) {
    out.id = BASE + file;
    out.$schema = DRAFT_04;
  }
  return out;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

let validators: Map<OciSchemaKind, ValidateFunction> | undefined;

function load(): Map<OciSchemaKind, ValidateFunction> {
  if (validators) return validators;
  // ajv-draft-04 is CommonJS: module.exports is the class and `.default` points back to it, which
  // is also how TypeScript (NodeNext) types a default import of it.
  const Ajv = ajvDraft04.default;
  const ajv = new Ajv({ allErrors: true, strict: true });
  ajv.addKeyword('media'); // defs.json's `base64` annotation: describes, never validates
  ajv.addFormat('uri', (text: string) => URL.canParse(text));
  ajv.addFormat('date-time', (text: string) => RFC3339.test(text) && !Number.isNaN(Date.parse(text)));
  for (const file of readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.json'))) {
    ajv.addSchema(prepare(JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')), file) as object);
  }
  validators = new Map();
  for (const [kind, file] of Object.entries(SCHEMA_FILES) as Array<[OciSchemaKind, string]>) {
    const validate = ajv.getSchema(BASE + file);
    if (!validate) throw new Error(`image-spec schema ${file} did not load from ${SCHEMA_DIR}`);
    validators.set(kind, validate);
  }
  return validators;
}

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map((e) => `${e.instancePath === '' ? '(root)' : e.instancePath} ${e.message ?? e.keyword}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''}`)
    .join('; ');
}

/**
 * Throws unless `json` is valid against the image-spec schema for `kind`: an image manifest, an
 * image index (also an OCI layout's index.json), an `oci-layout` file, or an image config.
 * `json` is a parsed value, or the raw bytes (a Buffer/Uint8Array) of a JSON document.
 */
export function assertValidAgainstSchema(kind: OciSchemaKind, json: unknown): void {
  const value = json instanceof Uint8Array ? (JSON.parse(Buffer.from(json).toString('utf8')) as unknown) : json;
  const validate = load().get(kind);
  if (!validate) throw new Error(`unknown schema kind ${String(kind)}`);
  if (!validate(value)) {
    throw new Error(`not a valid OCI ${kind} per ${SCHEMA_FILES[kind]}: ${describeErrors(validate.errors)}`);
  }
}
