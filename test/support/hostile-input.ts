import fc from 'fast-check';

/**
 * fast-check arbitraries for what a hostile or broken client sends: the values the fuzz suite
 * (test/e2e/route-fuzz.test.ts) puts into every path parameter, query parameter, header and JSON
 * field of every route. Each family is one the issue saw answered 500, or one that often is:
 * malformed percent-escapes, control characters, extreme numbers, dates outside the years a
 * database or `Date` can hold, wrong types, deep nesting and huge arrays.
 */

/** C0 (NUL included), DEL and C1: none may reach a store, a log or an alert. */
const CONTROL_CHARACTERS = ['\u0000', '\u0001', '\u0007', '\b', '\t', '\n', '\u000b', '\f', '\r', '\u001b', '\u001f', '\u007f', '\u0080', '\u0085', '\u009b', '\u009f'];

export const withControlCharacter = fc
  .tuple(fc.string({ maxLength: 8 }), fc.constantFrom(...CONTROL_CHARACTERS), fc.string({ maxLength: 8 }))
  .map(([before, control, after]) => `${before}${control}${after}`);

const ODD_STRINGS = ['', ' ', '\ud800', '\udfff', 'a\ud800b', '\u202e', '\ufeff', '\u2028', '\u{1f4a5}', '../../etc/passwd', '%00', '%', '%zz', "' OR 1=1 --", '<script>', '{}', '[]', 'null', '__proto__', 'constructor'];

export const numberLikeString = fc.constantFrom('NaN', 'Infinity', '-Infinity', '-0', '0', '1e-16', '1e308', '1e309', '-1e308', '0x10', ' 1', '1_000', '9007199254740993', '5e-324', '+1', '00001', '1.', '.5', '1e-3', '0.01', '10.0000001');

export const extremeNumber = fc.oneof(
  fc.constantFrom(1e-16, 1e308, -1e308, -0, 0, 5e-324, Number.MAX_SAFE_INTEGER + 2, -1, 1, 0.01, 0.009999, 10, 10.000001, 1e-3, 0.0010001, 1e-12, 2 ** 31, 2 ** 53),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/** ISO-8601 texts at and beyond the edges: year 0, year 9999, `Date`'s own limits, impossible days. */
export const dateString = fc.oneof(
  fc.constantFrom(
    '0000-01-01T00:00:00Z',
    '0001-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '9999-12-31T23:59:59.999999999+14:00',
    '-271821-04-20T00:00:00Z',
    '+275760-09-13T00:00:00Z',
    '1970-01-01T00:00:00Z',
    '1999-12-31T23:59:59Z',
    '2101-01-01T00:00:00Z',
    '2026-02-30T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T00:00:60Z',
    '2026-01-01T00:00:00-23:59',
    '2026-01-01',
    '2026-01-01T00:00:00',
    'yesterday',
  ),
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((date) => date.toISOString()),
);

export const hostileString = fc.oneof(
  { weight: 3, arbitrary: withControlCharacter },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom(...ODD_STRINGS) },
  { weight: 2, arbitrary: numberLikeString },
  { weight: 2, arbitrary: dateString },
  // Past the usual limits of 64, 128, 256 and 500 characters; longer ones go in bodies only (hostileValue),
  // since in a URL they would only meet the 16 KiB header limit, which hostile-input.test.ts pins.
  { weight: 1, arbitrary: fc.integer({ min: 65, max: 2_000 }).map((length) => 'a'.repeat(length)) },
);

function nested(depth: number, inArray: boolean): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = inArray ? [value] : { a: value };
  return value;
}

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 3, arbitrary: extremeNumber },
  { weight: 2, arbitrary: fc.constantFrom(null, true, false, [], {}, [[]], { a: {} }, [null], ['x']) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 100, max: 1_500 }), fc.boolean()).map(([depth, inArray]) => nested(depth, inArray)) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 20_000 }).map((length) => Array.from({ length }, (_, i) => i)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 2_000, max: 200_000 }).map((length) => 'a'.repeat(length)) },
);

type Path = readonly (string | number)[];

/**
 * The nodes a mutation may hit: the seed's, and the first few levels and items of what earlier
 * mutations put in (walking all of a 20,000-item array or a 1,500-deep nest would cost more than
 * the request).
 */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== 'object' || prefix.length >= 8) return [prefix];
  const entries = Array.isArray(value) ? value.slice(0, 20).map((item, index) => [index, item] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([key, item]) => pathsOf(item, [...prefix, key]))];
}

interface Mutation {
  readonly at: number;
  readonly op: 'replace' | 'delete' | 'add';
  readonly value: unknown;
  readonly key: string;
}

/** `seed` with each mutation applied at one of its nodes (the root included). */
function mutate(seed: unknown, mutations: readonly Mutation[]): unknown {
  let value = structuredClone(seed);
  for (const mutation of mutations) {
    const paths = pathsOf(value);
    const path = paths[mutation.at % paths.length]!;
    // A copy: fast-check hands out the same constant objects again, which must never be linked or changed.
    const inserted = structuredClone(mutation.value);
    if (path.length === 0) {
      value = mutation.op === 'replace' ? inserted : value;
      continue;
    }
    const parent = path.slice(0, -1).reduce<any>((node, key) => node[key], value);
    const last = path[path.length - 1]!;
    if (mutation.op === 'replace') parent[last] = inserted;
    else if (mutation.op === 'delete' && Array.isArray(parent)) parent.splice(Number(last), 1);
    else if (mutation.op === 'delete') delete parent[last];
    else if (typeof parent === 'object' && parent !== null) parent[Array.isArray(parent) ? parent.length : mutation.key] = inserted;
  }
  return value;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('replace', 'replace', 'replace', 'delete', 'add'),
  value: hostileValue,
  key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'text', 'userId', 'email'), hostileString),
});

/** A valid `seed` with one to three of its nodes replaced, removed or given a hostile sibling. */
export function mutated<T>(seed: T): fc.Arbitrary<unknown> {
  return fc.array(mutation, { minLength: 1, maxLength: 3 }).map((mutations) => mutate(seed, mutations));
}

/** Bodies that are not JSON, or JSON in an encoding the API does not speak. */
export const malformedBody = fc.oneof(
  fc.constantFrom('{', '{"a":', '[1,', '"', 'nul', '{"a":1}}', '\ufeff{}', '1e999999', '-', '{"__proto__":{"polluted":1}}', '\u0000').map((text) => Buffer.from(text, 'utf8')),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  fc.constantFrom(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), Buffer.from([0xc0, 0xaf]), Buffer.from('{"a":"\\ud800"}')),
);

/** Percent-encoded UTF-8; a lone surrogate (which has no UTF-8) as U+FFFD, which is what a server would see of it. */
export function encodeSafely(text: string): string {
  return encodeURIComponent(text.replace(/\p{Cs}/gu, '\ufffd'));
}

/** A path segment: a valid value, or one that is percent-escaped wrong, encodes a control character, or climbs. */
export function pathSegment(valid: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(valid) },
    { weight: 3, arbitrary: fc.constantFrom('%', '%zz', '%E0%A4%A', '%C0%AF', '%00', '%2F', '%2e%2e', '..', '.', '%FF', '%ED%A0%80', '%u0041', `${valid}%`, `%${valid}`, '\u00e9', '\u00ff') },
    { weight: 3, arbitrary: hostileString.map(encodeSafely) },
    { weight: 1, arbitrary: fc.constant('') },
  );
}

/** Raw query-string parts, some of them not valid percent-encoding. */
export const malformedQueryPart = fc.constantFrom('%', '%zz', 'a=%', 'a=%E0%A4%A', '=1', '&&', '+', 'a=1=2', '%00=1', 'from=%00', 'before=%ff');
