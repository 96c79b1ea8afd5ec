/**
 * Which mirrors serve which origin registry: parsed from `--mirror` flags and a JSON hosts file
 * (in the spirit of containerd's hosts.toml and containers' registries.conf). Pure: reading the
 * file is the caller's job (see ./load.ts).
 */
import { InvalidArgumentError } from '../errors.js';
import { array, boolean, checkShape, custom, isJsonObject, object, optional, record, refine, string, type Issue, type JsonObject } from '../oci/json-shape.js';
import { DOCKER_HUB } from '../ref/reference.js';

/** One pull-through cache registry in front of an origin. */
export interface MirrorSpec {
  /** `mirror.local:5000`: where the mirror's `/v2/` API is served. */
  host: string;
  /**
   * Repository path prefix on the mirror: `mirror/v2/<prefix>/<repo>/...` serves
   * `origin/v2/<repo>/...` (Harbor proxy projects). Empty for distribution's proxy, which
   * mirrors one upstream at its root.
   */
  prefix: string;
  /** Plain HTTP; undefined: the client's default (HTTP for loopback hosts only). */
  plainHttp: boolean | undefined;
  /** HTTPS without certificate verification. */
  insecure: boolean;
  /** An extra CA certificate (PEM) to trust for this mirror. */
  caFile: string | undefined;
}

/** Origin registry (or `*` for any) -> its mirrors, tried in order before the origin. */
export interface MirrorConfig {
  registries: Map<string, MirrorSpec[]>;
}

/** The key that applies to every origin. */
export const ANY_REGISTRY = '*';

const HOST = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:\d{1,5})?$/;
const PREFIX = /^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;

/** A mirror written as an object in the hosts file. */
interface MirrorObject {
  host: string;
  prefix?: string;
  plainHttp?: boolean;
  insecure?: boolean;
  caFile?: string;
}

const mirrorObject = object<MirrorObject>(
  {
    host: string(),
    prefix: optional(string()),
    plainHttp: optional(boolean()),
    insecure: optional(boolean()),
    caFile: optional(
      refine(string(), (value, report) => {
        if (value.length === 0) report('Too small: expected string to have >=1 characters');
      }),
    ),
  },
  { strict: true },
);
// A host or an object; an object is checked when its origin's turn comes (below), so problems
// are reported in the order of the file.
const mirrorEntry = custom((value): value is string | JsonObject => typeof value === 'string' || isJsonObject(value), 'Invalid input');

const fileShape = object<{ mirrors: Record<string, Array<string | JsonObject>> }>({ mirrors: record(array(mirrorEntry)) }, { strict: true });

/**
 * `mirror.local:5000`, `http://mirror.local:5000`, `https://mirror.example/dockerhub` (a path is
 * the repository prefix) -> a MirrorSpec. The scheme, when given, decides plain HTTP.
 */
export function parseMirrorHost(text: string, where = '--mirror'): MirrorSpec {
  let rest = text.trim();
  let plainHttp: boolean | undefined;
  const scheme = /^(https?):\/\//i.exec(rest);
  if (scheme) {
    plainHttp = scheme[1]!.toLowerCase() === 'http';
    rest = rest.slice(scheme[0].length);
  }
  const slash = rest.indexOf('/');
  const host = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
  const hint = 'write HOST[:PORT], optionally with http:// or https:// and a /PREFIX';
  if (!HOST.test(host)) throw new InvalidArgumentError(`${where}: invalid mirror host ${JSON.stringify(text)}`, { hint });
  if (prefix !== '' && !PREFIX.test(prefix)) {
    throw new InvalidArgumentError(`${where}: invalid repository prefix ${JSON.stringify(prefix)} in mirror ${JSON.stringify(text)}`, { hint });
  }
  return { host, prefix, plainHttp, insecure: false, caFile: undefined };
}

/**
 * One `--mirror` value: `HOST` (a mirror for every origin) or `ORIGIN=HOST` (for that origin
 * only). Returns the origin key and the spec.
 */
export function parseMirrorFlag(text: string): { registry: string; mirror: MirrorSpec } {
  const eq = text.indexOf('=');
  if (eq < 0) return { registry: ANY_REGISTRY, mirror: parseMirrorHost(text) };
  const registry = normaliseRegistryKey(text.slice(0, eq), '--mirror');
  return { registry, mirror: parseMirrorHost(text.slice(eq + 1)) };
}

/** Parses the JSON hosts file; `source` names it in messages. */
export function parseMirrorConfig(text: string, source: string): MirrorConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`${source}: not JSON: ${(err as Error).message}`, { hint: 'see docs/mirrors.md for the format' });
  }
  const parsed = checkShape(fileShape, json, invalidInputMessage);
  if (!parsed.ok) throw invalidConfig(source, parsed.issues[0], []);
  const registries = new Map<string, MirrorSpec[]>();
  for (const [origin, entries] of Object.entries(parsed.value.mirrors)) {
    const key = normaliseRegistryKey(origin, source);
    const where = `${source} (${origin})`;
    const specs = entries.map((raw, i) => {
      if (typeof raw === 'string') return parseMirrorHost(raw, where);
      const checked = checkShape(mirrorObject, raw, invalidInputMessage);
      if (!checked.ok) throw invalidConfig(source, checked.issues[0], ['mirrors', origin, i]);
      const entry = checked.value;
      const base = parseMirrorHost(entry.host, where);
      const prefix = entry.prefix !== undefined ? parseMirrorHost(`${base.host}/${entry.prefix}`, where).prefix : base.prefix;
      return {
        host: base.host,
        prefix,
        plainHttp: entry.plainHttp ?? base.plainHttp,
        insecure: entry.insecure ?? false,
        caFile: entry.caFile,
      };
    });
    registries.set(key, [...(registries.get(key) ?? []), ...specs]);
  }
  return { registries };
}

function invalidConfig(source: string, issue: Issue | undefined, base: PropertyKey[]): InvalidArgumentError {
  const path = [...base, ...(issue?.path ?? [])].map(String);
  const at = path.length > 0 ? ` at ${path.join('.')}` : '';
  return new InvalidArgumentError(`${source}: invalid mirror configuration${at}: ${issue?.message ?? 'unknown problem'}`, {
    hint: 'expected {"mirrors": {"ORIGIN": ["HOST", {"host": "HOST", "plainHttp": true}]}}; see docs/mirrors.md',
  });
}

/** `Invalid input: expected string, received number`: the wording this file's messages have always had. */
function invalidInputMessage(expected: string, value: unknown): string {
  return `Invalid input: expected ${expected}, received ${typeName(value)}`;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return typeof value;
}

/**
 * Everything that applies, in order of precedence: `--mirror` flags (in the order given), then
 * the file's entries for this origin, then its `*` entries. The same mirror is listed once.
 */
export function mergeMirrorConfigs(...configs: MirrorConfig[]): MirrorConfig {
  const registries = new Map<string, MirrorSpec[]>();
  for (const c of configs) {
    for (const [key, specs] of c.registries) registries.set(key, [...(registries.get(key) ?? []), ...specs]);
  }
  return { registries };
}

/** `--mirror` values -> a MirrorConfig (flags come first when merged). */
export function mirrorConfigFromFlags(values: readonly string[]): MirrorConfig {
  return mergeMirrorConfigs(
    ...values.map((v) => {
      const { registry, mirror } = parseMirrorFlag(v);
      return { registries: new Map([[registry, [mirror]]]) };
    }),
  );
}

/** The mirrors to try, in order, for `registry` (exact entries before `*` ones). */
export function mirrorsFor(config: MirrorConfig, registry: string): MirrorSpec[] {
  const key = normaliseRegistryKey(registry, 'registry');
  const all = [...(config.registries.get(key) ?? []), ...(key === ANY_REGISTRY ? [] : (config.registries.get(ANY_REGISTRY) ?? []))];
  const seen = new Set<string>();
  return all.filter((m) => {
    const id = mirrorId(m);
    if (id === key || seen.has(id)) return false; // never "mirror" a registry by itself
    seen.add(id);
    return true;
  });
}

/** `host/prefix`: identifies a mirror in logs and de-duplication. */
export function mirrorId(m: Pick<MirrorSpec, 'host' | 'prefix'>): string {
  return m.prefix ? `${m.host}/${m.prefix}` : m.host;
}

const DOCKER_HUB_ALIASES = new Set(['index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** Docker Hub's several names are one origin; host names are case-insensitive. */
export function normaliseRegistryKey(text: string, where: string): string {
  const key = text.trim().toLowerCase().replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (key === ANY_REGISTRY) return key;
  if (!HOST.test(key)) throw new InvalidArgumentError(`${where}: invalid origin registry ${JSON.stringify(text)}`, { hint: 'write HOST[:PORT] or *' });
  return DOCKER_HUB_ALIASES.has(key) ? DOCKER_HUB : key;
}
