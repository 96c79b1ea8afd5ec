/**
 * Reads Prometheus text exposition back into numbers, strictly enough that a malformed line
 * fails the test: `# HELP`/`# TYPE` comments, then `name{labels} value` samples. Values are
 * what Go's ParseFloat reads, as the format says (prom-client writes NaN as `Nan`).
 */
export interface Exposition {
  /** `name` or `name{k="v",...}` exactly as written -> value. */
  samples: Map<string, number>;
  /** metric family -> its TYPE. */
  types: Map<string, string>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.eE+-]+|[Nn]a[Nn]|[+-]Inf)( -?\d+)?$/;

export function parseExposition(text: string): Exposition {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) continue;
    if (line.startsWith('# TYPE ')) {
      const [, , name = '', type = ''] = line.split(' ');
      types.set(name, type);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    samples.set(m[1]! + (m[2] ?? ''), /^nan$/i.test(m[3]!) ? Number.NaN : Number(m[3]));
  }
  return { samples, types };
}

/** The value of a sample, failing clearly when it is missing. */
export function sample(exposition: Exposition, key: string): number {
  const value = exposition.samples.get(key);
  if (value === undefined) throw new Error(`no sample ${key}; have: ${[...exposition.samples.keys()].filter((k) => k.startsWith('ocifs_')).join(', ')}`);
  return value;
}
