/** Parsing of argument shapes shared by several commands. */
import { InvalidArgumentError } from '../errors.js';

/**
 * `repo:v1,latest` or `./layout:v1,v2` -> the spec with its first tag, and all tags.
 * Only a suffix after the last ':' that holds a comma and no '/' is a tag list.
 */
export function splitTagList(text: string): { spec: string; tags: string[] } {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return { spec: text, tags: [] };
  const suffix = text.slice(colon + 1);
  if (!suffix.includes(',') || suffix.includes('/') || suffix.includes('@')) return { spec: text, tags: [] };
  const tags = suffix.split(',').map((t) => t.trim());
  if (tags.some((t) => t === '')) throw new InvalidArgumentError(`empty tag in ${JSON.stringify(text)}`);
  return { spec: `${text.slice(0, colon)}:${tags[0]}`, tags };
}

/** `key=value` annotations (repeatable flag) -> a record. */
export function parseAnnotations(pairs: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new InvalidArgumentError(`invalid annotation ${JSON.stringify(pair)}`, { hint: 'use --annotation key=value' });
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 1024) throw new InvalidArgumentError(`${name} must be a whole number from 1 to 1024, got ${JSON.stringify(value)}`);
    return n;
  };
}
