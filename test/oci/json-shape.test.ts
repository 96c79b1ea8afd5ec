import { describe, expect, test } from 'vitest';
import {
  array,
  boolean,
  checkShape,
  custom,
  describe as describeValue,
  literal,
  number,
  object,
  optional,
  record,
  refine,
  string,
  transform,
  type CheckResult,
  type Issue,
} from '../../src/oci/json-shape.js';

interface Item {
  name: string;
  count?: number;
}

interface Box {
  version: 1;
  items: Item[];
  labels?: Record<string, string>;
  open?: boolean;
}

const item = object<Item>({ name: string(), count: optional(number()) });
const box = object<Box>({ version: literal(1), items: array(item), labels: optional(record(string())), open: optional(boolean()) });

function issuesOf<T>(result: CheckResult<T>): Issue[] {
  expect(result.ok).toBe(false);
  return result.ok ? [] : result.issues;
}

function valueOf<T>(result: CheckResult<T>): T {
  if (!result.ok) throw new Error(`unexpected issues: ${JSON.stringify(result.issues)}`);
  return result.value;
}

describe('checkShape', () => {
  test('a value that fits comes back with the same content', () => {
    const input = { version: 1, items: [{ name: 'a', count: 2 }, { name: 'b' }], labels: { 'x.y': 'z' }, open: false };
    expect(valueOf(checkShape(box, input))).toStrictEqual(input);
  });

  test('missing and wrong-typed values are told apart', () => {
    expect(issuesOf(checkShape(item, {}))).toStrictEqual([{ path: ['name'], message: 'is missing (expected string)' }]);
    expect(issuesOf(checkShape(item, { name: 5 }))).toStrictEqual([{ path: ['name'], message: 'expected string, got the number 5' }]);
    expect(issuesOf(checkShape(item, { name: 'a', count: 'many' }))).toStrictEqual([{ path: ['count'], message: 'expected number, got the string "many"' }]);
  });

  test('the top-level value has an empty path', () => {
    expect(issuesOf(checkShape(box, null))).toStrictEqual([{ path: [], message: 'expected object, got null' }]);
    expect(issuesOf(checkShape(box, []))).toStrictEqual([{ path: [], message: 'expected object, got an array' }]);
  });

  test('paths lead through arrays and records to the problem, every problem in declaration order', () => {
    const input = { labels: { ok: 'x', bad: true }, items: [{ name: 'a' }, { name: 'b', count: Infinity }, 7], version: 1 };
    expect(issuesOf(checkShape(box, input))).toStrictEqual([
      { path: ['items', 1, 'count'], message: 'expected number, got the number Infinity' },
      { path: ['items', 2], message: 'expected object, got the number 7' },
      { path: ['labels', 'bad'], message: 'expected string, got true' },
    ]);
  });

  test('a literal names the value it must be', () => {
    expect(issuesOf(checkShape(box, { version: '1', items: [] }))).toStrictEqual([{ path: ['version'], message: 'must be 1, got the string "1"' }]);
  });

  test('a record must be an object', () => {
    expect(issuesOf(checkShape(record(string()), ['a']))).toStrictEqual([{ path: [], message: 'expected record, got an array' }]);
  });

  test('the wording of type problems can be replaced', () => {
    const words = (expected: string, value: unknown): string => `want ${expected}, have ${typeof value}`;
    expect(issuesOf(checkShape(item, { name: null }, words))).toStrictEqual([{ path: ['name'], message: 'want string, have object' }]);
  });

  test('a custom shape passes what it accepts and reports the rest', () => {
    const stringOrList = custom((v): v is string | unknown[] => typeof v === 'string' || Array.isArray(v), 'neither a string nor a list');
    const list = [1];
    expect(valueOf(checkShape(stringOrList, list))).toBe(list);
    expect(issuesOf(checkShape(stringOrList, 3))).toStrictEqual([{ path: [], message: 'neither a string nor a list' }]);
  });

  test('object() takes optional() shapes exactly for optional properties (tsc checks the directives)', () => {
    // @ts-expect-error: count is optional, so its shape must accept a missing value
    const countRequired = object<Item>({ name: string(), count: number() });
    // @ts-expect-error: name is required, so its shape must not accept a missing value
    const nameOptional = object<Item>({ name: optional(string()), count: optional(number()) });
    expect(issuesOf(checkShape(countRequired, { name: 'a' }))).toStrictEqual([{ path: ['count'], message: 'is missing (expected number)' }]);
    expect(valueOf(checkShape(nameOptional, {}))).toStrictEqual({});
  });

  test('transform converts only a value of the right type', () => {
    const length = transform(string(), (s) => s.length);
    expect(valueOf(checkShape(length, 'abc'))).toBe(3);
    expect(issuesOf(checkShape(length, 3))).toStrictEqual([{ path: [], message: 'expected string, got the number 3' }]);
  });
});

describe('unknown fields', () => {
  test('are dropped from an object', () => {
    const value = valueOf(checkShape(box, { version: 1, items: [{ name: 'a', extra: { deep: 1 } }], future: 'x' }));
    expect(value).toStrictEqual({ version: 1, items: [{ name: 'a' }] });
  });

  test('are reported, after the declared fields, by a strict object', () => {
    const strict = object<Item>({ name: string(), count: optional(number()) }, { strict: true });
    expect(issuesOf(checkShape(strict, { tls: 1, name: 'a' }))).toStrictEqual([{ path: [], message: 'Unrecognized key: "tls"' }]);
    expect(issuesOf(checkShape(strict, { tls: 1, x: 2 }))).toStrictEqual([
      { path: ['name'], message: 'is missing (expected string)' },
      { path: [], message: 'Unrecognized keys: "tls", "x"' },
    ]);
  });
});

describe('__proto__', () => {
  const withProtoKey = (json: string): unknown => JSON.parse(json);

  test('a record rejects the key instead of letting it replace the prototype', () => {
    const input = withProtoKey('{"__proto__": {"polluted": "yes"}, "a": "b"}');
    expect(issuesOf(checkShape(record(string()), input))).toStrictEqual([{ path: ['__proto__'], message: 'this key is not allowed' }]);
    expect(issuesOf(checkShape(record(string(), 'no such label'), input))).toStrictEqual([{ path: ['__proto__'], message: 'no such label' }]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('an object drops the key and keeps its prototype', () => {
    const value = valueOf(checkShape(item, withProtoKey('{"__proto__": {"name": "inherited", "polluted": "yes"}, "name": "own"}')));
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toStrictEqual(['name']);
    expect((value as unknown as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('an inherited field does not count as present', () => {
    const input = Object.create({ name: 'inherited' }) as object;
    expect(issuesOf(checkShape(item, input))).toStrictEqual([{ path: ['name'], message: 'is missing (expected string)' }]);
  });

  test('a strict object reports the key', () => {
    const strict = object<{ name: string }>({ name: string() }, { strict: true });
    expect(issuesOf(checkShape(strict, withProtoKey('{"__proto__": 1, "name": "a"}')))).toStrictEqual([{ path: [], message: 'Unrecognized key: "__proto__"' }]);
  });
});

describe('refine', () => {
  const even = refine(number(), (n, report) => {
    if (n % 2 !== 0) report(`${n} is odd`);
  });
  const pair = refine(object<{ low: number; high: number }>({ low: even, high: even }), (p, report) => {
    if (p.low > p.high) report('is above high', 'low');
  });

  test('judges only a value of the right type', () => {
    expect(issuesOf(checkShape(even, 'two'))).toStrictEqual([{ path: [], message: 'expected number, got the string "two"' }]);
    expect(issuesOf(checkShape(even, 3))).toStrictEqual([{ path: [], message: '3 is odd' }]);
  });

  test('reports below the value, after the problems of its fields', () => {
    expect(issuesOf(checkShape(pair, { low: 4, high: 2 }))).toStrictEqual([{ path: ['low'], message: 'is above high' }]);
    expect(issuesOf(checkShape(pair, { low: 5, high: 2 }))).toStrictEqual([
      { path: ['low'], message: '5 is odd' },
      { path: ['low'], message: 'is above high' },
    ]);
  });

  test('does not judge an object with a field of the wrong type', () => {
    expect(issuesOf(checkShape(pair, { low: 4, high: '2' }))).toStrictEqual([{ path: ['high'], message: 'expected number, got the string "2"' }]);
  });
});

describe('describe', () => {
  test.each([
    [null, 'null'],
    [[1], 'an array'],
    [{}, 'an object'],
    [true, 'true'],
    [-1.5, 'the number -1.5'],
    ['x'.repeat(100), `the string "${'x'.repeat(80)}..."`],
    [undefined, 'undefined'],
  ])('%j -> %s', (value, text) => {
    expect(describeValue(value)).toBe(text);
  });
});
