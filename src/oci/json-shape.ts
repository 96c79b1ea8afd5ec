/**
 * Checking untrusted, already-parsed JSON against a shape: the few checkers ./validate.ts and
 * the mirrors hosts file need, hand-written because importing a schema library cost every CLI
 * start ~0.1 s. Pure: no I/O.
 *
 * Rules: a check reports every problem it finds as an Issue (a JSON path and a message) and
 * builds its result from fresh plain objects holding only checked values (custom() alone passes
 * its value on as it is, for the caller to check further). Unknown fields of an object are
 * dropped (a strict object also reports them); a record rejects a `__proto__` key, so no input
 * key can replace a result's prototype. Problems are found in a fixed order: fields in the order
 * the shape declares them, array items and record entries in input order, then the refinements
 * of the value around them. A value of the wrong type makes everything around it unusable: no
 * refinement judges it. A failed refinement keeps its value usable, so the refinements of the
 * value around it still run (they must only judge fields that are sound).
 */

export type JsonPath = Array<string | number>;

export interface Issue {
  path: JsonPath;
  message: string;
}

/** A JSON object: not null, not an array. */
export type JsonObject = Readonly<Record<string, unknown>>;

/** The message for a value of the wrong type; `value` is undefined when it is missing. */
export type WrongTypeMessage = (expected: string, value: unknown) => string;

/** Returned by a check whose value had the wrong type. */
const UNUSABLE: unique symbol = Symbol('unusable');
type Unusable = typeof UNUSABLE;

/** Where a check is, and what it has found so far; one per checkShape() call. */
export class ShapeCheck {
  readonly issues: Issue[] = [];
  private readonly path: JsonPath = [];

  constructor(readonly wrongTypeMessage: WrongTypeMessage) {}

  /** Records a problem at the current path, or below it. */
  report(message: string, ...below: JsonPath): void {
    this.issues.push({ path: [...this.path, ...below], message });
  }

  /** Reports a value of the wrong type; returns UNUSABLE for the caller to return. */
  wrongType(expected: string, value: unknown): Unusable {
    this.report(this.wrongTypeMessage(expected, value));
    return UNUSABLE;
  }

  /** Checks the value at `key` below the current path. */
  at<T>(key: string | number, shape: Shape<T>, value: unknown): T | Unusable {
    this.path.push(key);
    const checked = shape.check(value, this);
    this.path.pop();
    return checked;
  }
}

export interface Shape<T> {
  readonly check: (value: unknown, at: ShapeCheck) => T | Unusable;
}

/** A shape whose value may be missing; object() requires one for each optional property. */
export interface OptionalShape<T> extends Shape<T | undefined> {
  readonly optional: true;
}

/** Reports a problem with a value that has the right type. */
export type Report = (message: string, ...below: JsonPath) => void;

export type CheckResult<T> = { ok: true; value: T } | { ok: false; issues: Issue[] };

/** Checks `value` against `shape`; `wrongTypeMessage` rewords the type problems. */
export function checkShape<T>(shape: Shape<T>, value: unknown, wrongTypeMessage: WrongTypeMessage = wrongTypeInOurWords): CheckResult<T> {
  const check = new ShapeCheck(wrongTypeMessage);
  const checked = shape.check(value, check);
  if (checked === UNUSABLE || check.issues.length > 0) return { ok: false, issues: check.issues };
  return { ok: true, value: checked };
}

// ---------------------------------------------------------------------------------------------
// Shapes

export function string(): Shape<string> {
  return { check: (value, at) => (typeof value === 'string' ? value : at.wrongType('string', value)) };
}

/** A finite number: JSON.parse turns 1e400 into Infinity, which is not one. */
export function number(): Shape<number> {
  return { check: (value, at) => (typeof value === 'number' && Number.isFinite(value) ? value : at.wrongType('number', value)) };
}

export function boolean(): Shape<boolean> {
  return { check: (value, at) => (typeof value === 'boolean' ? value : at.wrongType('boolean', value)) };
}

export function literal<V extends string | number | boolean>(expected: V): Shape<V> {
  return {
    check: (value, at) => {
      if (value === expected) return expected;
      at.report(`must be ${JSON.stringify(expected)}, got ${describe(value)}`);
      return UNUSABLE;
    },
  };
}

/** A value `accepts` recognises, passed on as it is: the caller checks it further. */
export function custom<T>(accepts: (value: unknown) => value is T, message: string): Shape<T> {
  return {
    check: (value, at) => {
      if (accepts(value)) return value;
      at.report(message);
      return UNUSABLE;
    },
  };
}

export function optional<T>(shape: Shape<T>): OptionalShape<T> {
  return { optional: true, check: (value, at) => (value === undefined ? undefined : shape.check(value, at)) };
}

export function array<T>(item: Shape<T>): Shape<T[]> {
  return {
    check: (value, at) => {
      if (!Array.isArray(value)) return at.wrongType('array', value);
      const items: T[] = [];
      let usable = true;
      for (let i = 0; i < value.length; i++) {
        const checked = at.at(i, item, value[i]);
        if (checked === UNUSABLE) usable = false;
        else items.push(checked);
      }
      return usable ? items : UNUSABLE;
    },
  };
}

/**
 * An object used as a map from any key to a value of one shape. A `__proto__` key is rejected
 * with `reservedKeyMessage` rather than dropped: it cannot be set on a plain object without
 * replacing its prototype, and silently losing it would hide what the input said.
 */
export function record<T>(entry: Shape<T>, reservedKeyMessage = 'this key is not allowed'): Shape<Record<string, T>> {
  return {
    check: (value, at) => {
      if (!isJsonObject(value)) return at.wrongType('record', value);
      if (Object.hasOwn(value, '__proto__')) {
        // Still a record, so the refinements around it judge it; its other entries are not.
        at.report(reservedKeyMessage, '__proto__');
        return {};
      }
      const entries: Record<string, T> = {};
      let usable = true;
      for (const key of Object.keys(value)) {
        const checked = at.at(key, entry, value[key]);
        if (checked === UNUSABLE) usable = false;
        else entries[key] = checked;
      }
      return usable ? entries : UNUSABLE;
    },
  };
}

/** One shape per property of T: optional() ones exactly for T's optional properties. */
export type FieldShapes<T> = {
  [K in keyof T]-?: {} extends Pick<T, K> ? OptionalShape<Exclude<T[K], undefined>> : Shape<T[K]>;
};

/** An object with T's properties; unknown fields are dropped, or reported when `strict`. */
export function object<T extends object>(fields: FieldShapes<T>, { strict = false } = {}): Shape<T> {
  const shapes = Object.entries(fields) as Array<[string, Shape<unknown>]>;
  const known = new Set(Object.keys(fields));
  return {
    check: (value, at) => {
      if (!isJsonObject(value)) return at.wrongType('object', value);
      const result: Record<string, unknown> = {};
      let usable = true;
      for (const [name, shape] of shapes) {
        const checked = at.at(name, shape, Object.hasOwn(value, name) ? value[name] : undefined);
        if (checked === UNUSABLE) usable = false;
        else if (checked !== undefined) result[name] = checked;
      }
      if (strict) reportUnknownFields(value, known, at);
      return usable ? (result as T) : UNUSABLE;
    },
  };
}

function reportUnknownFields(value: JsonObject, known: ReadonlySet<string>, at: ShapeCheck): void {
  const unknown = Object.keys(value).filter((key) => !known.has(key));
  if (unknown.length > 0) at.report(`Unrecognized key${unknown.length > 1 ? 's' : ''}: ${unknown.map((key) => JSON.stringify(key)).join(', ')}`);
}

/** Adds checks of a value that has the right type; `judge` reports what is wrong with it. */
export function refine<T>(shape: Shape<T>, judge: (value: T, report: Report) => void): Shape<T> {
  return {
    check: (value, at) => {
      const checked = shape.check(value, at);
      if (checked !== UNUSABLE) judge(checked, at.report.bind(at));
      return checked;
    },
  };
}

/** Converts a value that has the right type. */
export function transform<T, U>(shape: Shape<T>, convert: (value: T) => U): Shape<U> {
  return {
    check: (value, at) => {
      const checked = shape.check(value, at);
      return checked === UNUSABLE ? UNUSABLE : convert(checked);
    },
  };
}

export function isJsonObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Messages

/** `is missing (expected string)`, `expected string, got the number 5`. */
export function wrongTypeInOurWords(expected: string, value: unknown): string {
  return value === undefined ? `is missing (expected ${expected})` : `expected ${expected}, got ${describe(value)}`;
}

/** A short description of an untrusted value for a message (never the whole value). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `the string ${quote(value)}`;
    case 'number':
      return `the number ${String(value)}`;
    case 'boolean':
      return String(value);
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

export function quote(text: string): string {
  return JSON.stringify(truncate(text, 80));
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}...`;
}
