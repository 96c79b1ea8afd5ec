/**
 * `org.opencontainers.image.created`: RFC 3339 timestamps as oras-go checks and writes them
 * (`ensureAnnotationCreated` in oras-go's pack.go: time.Parse(time.RFC3339), and
 * time.Now().UTC().Format(time.RFC3339) — whole seconds, `Z`). Pure.
 *
 * ORAS always stamps the current time; ocifs does not unless asked (`created: 'now'`), so the
 * same files give the same manifest digest every time.
 */
import { InvalidArgumentError } from '../errors.js';
import { Annotation } from '../oci/types.js';

/** `none` (the default): no timestamp; `now`: the current time; else an RFC 3339 time, kept verbatim. */
export type CreatedOption = 'none' | 'now' | (string & {});

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$/;

/** What Go's time.Parse(time.RFC3339, text) accepts. */
export function isRfc3339(text: string): boolean {
  const m = RFC3339.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
  if (hour > 23 || minute > 59 || second > 59) return false;
  if (m[8] !== 'Z' && (Number(m[9]) > 23 || Number(m[10]) > 59)) return false;
  return true;
}

/** `2026-11-28T15:04:05Z`: UTC, whole seconds, as Go's time.RFC3339 layout prints a UTC time. */
export function formatRfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Manifest annotations with the created time applied. An annotation given directly is kept
 * (and must be RFC 3339, as ORAS requires); combining it with `now` or a time is ambiguous.
 */
export function applyCreated(
  annotations: Record<string, string>,
  created: CreatedOption | undefined,
  now: () => Date,
): Record<string, string> {
  const given = annotations[Annotation.Created];
  const option = created ?? 'none';
  if (given !== undefined) {
    if (option !== 'none') {
      throw new InvalidArgumentError(`both an ${Annotation.Created} annotation and --created ${option} were given`, {
        hint: 'give the time one way only',
      });
    }
    if (!isRfc3339(given)) throw invalidTime(given, `the ${Annotation.Created} annotation`);
    return annotations;
  }
  if (option === 'none') return annotations;
  if (option === 'now') return { ...annotations, [Annotation.Created]: formatRfc3339(now()) };
  if (!isRfc3339(option)) throw invalidTime(option, '--created');
  return { ...annotations, [Annotation.Created]: option };
}

function invalidTime(text: string, where: string): InvalidArgumentError {
  return new InvalidArgumentError(`invalid time ${JSON.stringify(text)} for ${where}: expected RFC 3339`, {
    hint: 'write it like 2026-11-28T15:04:05Z, or use now or none',
  });
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
