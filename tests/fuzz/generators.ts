// fast-check arbitraries derived from the contract: values that satisfy a JSON schema
// of the OpenAPI document (with hints that aim ids, codes and names at data that exists),
// mutations of them, raw bodies, query strings, path parameters and headers.
import fc from 'fast-check';
import { ActorKindSchema } from '../../src/modules/actors/schemas.js';
import { ParticipantRoleSchema, EventStatusSchema } from '../../src/modules/events/schemas.js';
import { ReliabilitySchema, StanceSchema } from '../../src/modules/reports/schemas.js';
import { Contract, type JsonSchema, type Operation, type Parameter } from './contract.js';
import type { Caller, FuzzRequest } from './harness.js';

/** Stands for "the ETag the resource has now" in a generated If-Match; the test GETs it before sending. */
export const CURRENT_ETAG = '<current etag>';

/** A generated request, with what kind of body it carries. */
export type FuzzRequestDraft = FuzzRequest & { bodyKind: BodyChoice['kind'] | 'none' };

/** The collection a path's {id} belongs to: /v1/events/{id}/... -> events. */
export function resourceOf(path: string): Resource | undefined {
  const match = /^\/v1\/(events|reports|actors|documents)\//.exec(path);
  return match?.[1] as Resource | undefined;
}

export type Resource = 'events' | 'reports' | 'actors' | 'documents';

/** What exists in the database under test, as far as the fuzz knows; generators read it when they run. */
export interface World {
  live: Record<Resource, string[]>;
  /** Deleted events, withdrawn reports. */
  gone: Record<Resource, string[]>;
  eventTypes: string[];
  actorNames: { name: string; kind: string }[];
  urls: string[];
  tags: string[];
  admin1: string[];
  keyNames: string[];
  /** Relations that exist, as the tail of their DELETE path: {id}/relations/{relation}/{event_id}. */
  relations: string[];
  /** next_cursor values seen, by operationId. */
  cursors: Record<string, string[]>;
}

export function emptyWorld(): World {
  const resources = () => ({ events: [], reports: [], actors: [], documents: [] });
  return {
    live: resources(),
    gone: resources(),
    eventTypes: [],
    actorNames: [],
    urls: [],
    tags: [],
    admin1: [],
    keyNames: [],
    relations: [],
    cursors: {},
  };
}

/** Adds `value` to `pool` once, keeping the pool bounded (oldest dropped). */
export function remember<T>(pool: T[], value: T, max = 400): void {
  if (pool.includes(value)) return;
  pool.push(value);
  if (pool.length > max) pool.shift();
}

export function forget<T>(pool: T[], value: T): void {
  const index = pool.indexOf(value);
  if (index >= 0) pool.splice(index, 1);
}

/** One element of a pool read at generation time, or `fallback` while the pool is empty. */
export function pick<T>(pool: () => readonly T[], fallback: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return fc.tuple(fc.nat(), fallback).map(([index, otherwise]) => {
    const items = pool();
    return items.length > 0 ? items[index % items.length]! : otherwise;
  });
}

const WORDS = (
  'north korean soldier captured Kursk region drone strike friendly fire Sudzha ministry defence report claims denies ' +
  'killed wounded brigade oblast Київ Курск 북한 Pyongyang Zaporizhzhia O\'Brien naïve café ÆØÅ "quoted" a-b x_y 42 or and not'
).split(' ');

/** Strings that have broken servers before: blanks, control and format characters, scripts, injections, edges. */
// prettier-ignore
export const NASTY_STRINGS = [
  '', ' ', '   ', '\t', '\n', '\r\n', '\u0000', 'a\u0000b', '\u0007', '\u001b[31m', '\u200b', '\u200e', '\ufeff', '\ufffd', '\uffff',
  'é', 'e\u0301', '💥', '👨‍👩‍👧', '𝕳𝖊𝖑𝖑𝖔', 'ＡＢＣ', 'İ', 'ß', 'ﬃ', 'ǅ', '\u0130\u0131', 'مرحبا', 'עברית', '中文',
  'null', 'undefined', 'true', 'false', '0', '-1', '1e309', 'NaN', 'Infinity', '[]', '{}',
  "'; DROP TABLE events; --", '" OR 1=1 --', "' OR ''='", '\\', '"', "'", '`', '%', '%00', '%zz', '%%', '+', '&', '=', '#', '?',
  '../../etc/passwd', '<script>alert(1)</script>', '{{7*7}}', '${7*7}', '${jndi:ldap://x/a}', '$where', '$ne',
  ',', 'a,b', ',,,', ' a ', '-', '!', '|', '&&', ':*', '(', ')', '<->', 'a & b | !c', '""', '"unterminated', '*', 'a*',
  'a'.repeat(65), 'a'.repeat(201), 'a'.repeat(301), 'a'.repeat(501), 'b'.repeat(2001), 'c '.repeat(600),
  '0000-01-01', '0001-01-01', '9999-12-31', '2024-02-29', '2023-02-29', '2024-13-01', '2024-00-10', '24-01-01', '2024-1-1',
  '1970-01-01T00:00:00Z', '0001-01-01T00:00:00+14:00', '9999-12-31T23:59:59-14:00', '2024-01-01T24:00:00Z', '2024-01-01T00:00:00',
  '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'not-a-uuid',
];

/** Control characters (NUL among them) and unpaired surrogates, alone or inside ordinary text. */
const controlArb: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom('', 'Kursk ', 'a'),
    fc.constantFrom(
      '\u0000',
      '\u0001',
      '\u0008',
      '\u000b',
      '\u001f',
      '\u007f',
      '\u0085',
      '\ud800',
      '\udfff',
      '\u2028',
      '\ufffe',
    ),
    fc.constantFrom('', ' oblast', 'b'),
  )
  .map(([before, control, after]) => `${before}${control}${after}`);

/** A hostile string: one of NASTY_STRINGS, or a control character in text. */
export const nastyArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 1, arbitrary: controlArb },
);

/** Numbers at the edges of what JSON and PostgreSQL hold. */
// prettier-ignore
export const NUMBER_EDGES = [
  0, -0, -1, 1, 0.5, -0.5, 6, 7, 90.000001, -180.5, 2 ** 31, 2 ** 31 - 1, -(2 ** 31), 2 ** 53 + 2, -(2 ** 53), 1e21, 1e308, -1e308, 5e-324,
];

/** Text for a string of min..max characters: words mostly, any graphemes, and now and then a nasty string of any length. */
export const textOf = (min: number, max: number): fc.Arbitrary<string> =>
  fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 6 })
        .map((words) => words.join(' ').slice(0, max)),
    },
    {
      weight: 2,
      arbitrary: fc.string({
        unit: 'grapheme',
        minLength: Math.max(min, 1),
        maxLength: Math.max(Math.min(min + 20, max), 1),
      }),
    },
    { weight: 2, arbitrary: nastyArb },
  );

/** Dates at the edges of the calendar: year 0 (which PostgreSQL has not), leap days, the Gregorian switch, 9999. */
// prettier-ignore
const EDGE_DATES = [
  '0000-01-01', '0000-12-31', '0001-01-01', '1000-02-29', '1582-10-10', '1900-01-01', '2000-02-29', '9999-12-31',
];

/** URLs that are not http(s), not absolute, not ASCII, or too long. */
// prettier-ignore
const ODD_URLS = [
  'javascript:alert(1)', 'ftp://example.org/a', 'http://', 'https://', '//example.org', 'example.org', 'https://exa mple.org',
  'https://例え.jp/パス', 'http://[::1]/a', 'https://x.org/' + 'a'.repeat(2100), 'HTTPS://EXAMPLE.ORG/A', 'https://x.org/a#frag',
];

/** The kinds of change mutationArb makes. */
// prettier-ignore
const MUTATIONS = [
  'delete', 'null', 'replace', 'wrongType', 'huge', 'deep', 'unknownKey', 'number', 'emptyString', 'nasty', 'stringify', 'repeat',
  'emptyObject', 'emptyArray',
];

/** Content-Type values a JSON body may not be sent with, or near misses of application/json. */
// prettier-ignore
const ODD_CONTENT_TYPES: (string | undefined)[] = [
  'application/json; charset=utf-8', 'application/json;charset=UTF-8', 'APPLICATION/JSON', 'application/merge-patch+json',
  'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=xyz', 'application/xml', 'text/json',
  'application/json; charset=utf-16', 'application/json; charset=latin1', 'application/jsonx', 'application/json-patch+json',
  'application/problem+json', '*/*', '', ';;;', 'application/', undefined,
];

/** If-Match values other than a current version. */
// prettier-ignore
const BAD_IF_MATCH = [
  '"0"', '"999"', 'W/"1"', '1', '"abc"', '', ' ', '"1", "2"', '"99999999999"', '"-1"', '""', 'W/*', '"1', '*, "1"', '"1.0"', '"١"',
];

/** Accept values: each representation, wildcards, q-values, nothing acceptable, garbage. */
// prettier-ignore
const ACCEPTS = [
  'application/json', '*/*', 'text/csv', 'application/x-ndjson', 'application/geo+json', 'text/html', 'application/xml',
  'application/*', 'text/*;q=0.5, application/json;q=0.1', 'application/json;q=0', 'garbage', '', '*/*;q=abc',
  'application/problem+json', 'text/csv;q=0.9, */*;q=0.1', 'image/png, text/plain', 'application/geo+json;q=1.0, text/csv;q=1.0',
  '*/*;q=0', ',,,', ';q=1', 'TEXT/CSV', 'application/json;charset=utf-8',
];

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** A calendar date: mostly recent, sometimes at the edges of the calendar. */
export const dateArb: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc
      .date({ min: new Date('2014-01-01T00:00:00Z'), max: new Date('2026-12-31T00:00:00Z'), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 10)),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(...EDGE_DATES),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }))
      .map(([y, m, d]) => `${pad(y, 4)}-${pad(m)}-${pad(d)}`),
  },
);

/** A date-time with an offset: Z or ±hh:mm, with or without fractions. */
export const dateTimeArb: fc.Arbitrary<string> = fc
  .tuple(
    dateArb,
    fc.integer({ min: 0, max: 23 }),
    fc.integer({ min: 0, max: 59 }),
    fc.integer({ min: 0, max: 59 }),
    fc.constantFrom('', '.5', '.123', '.123456789'),
    fc.constantFrom('Z', 'Z', '+00:00', '+14:00', '-14:00', '+05:30', '-03:00'),
  )
  .map(([date, h, m, s, fraction, offset]) => `${date}T${pad(h)}:${pad(m)}:${pad(s)}${fraction}${offset}`);

export const urlArb: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 })
      .map((s) => `https://news.example.org/${encodeURIComponent(s)}`),
  },
  { weight: 3, arbitrary: fc.webUrl({ withQueryParameters: true, withFragments: true }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...ODD_URLS),
  },
);

/** Any UUID: nil, max, uppercase, wrong version, or random. */
export const uuidArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.uuid() },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
      '01234567-89ab-0def-8123-456789abcdef',
    ),
  },
);

const COUNTRIES = ['UKR', 'RUS', 'PRK', 'KOR', 'USA', 'BLR', 'ZZZ'];

interface Context {
  component?: string;
  property?: string;
  depth?: number;
}

/** Where a UUID of each component's property points. */
const ID_TARGETS: Record<string, Resource> = {
  'ActorById.id': 'actors',
  'DocumentById.id': 'documents',
  'Relation.event_id': 'events',
  'MergeRequest.into': 'events',
};

export class Generators {
  /** The role each write needs (WriteFuzzer.learnOwners); editor where unknown. */
  owners: Record<string, Caller> = {};

  constructor(
    readonly contract: Contract,
    readonly world: World,
  ) {}

  /** An id of a live resource, now and then a deleted one or an unknown UUID. */
  idOf(resource: Resource): fc.Arbitrary<string> {
    return fc.oneof(
      { weight: 12, arbitrary: pick(() => this.world.live[resource], fc.uuid()) },
      { weight: 1, arbitrary: pick(() => this.world.gone[resource], fc.uuid()) },
      { weight: 1, arbitrary: uuidArb },
    );
  }

  private hint(at: Context): fc.Arbitrary<unknown> | undefined {
    const key = `${at.component}.${at.property}`;
    const target = ID_TARGETS[key];
    if (target) return this.idOf(target);
    if ((at.component === 'EventCreateInput' || at.component === 'EventPatch') && at.property === 'type') {
      return fc.oneof(
        { weight: 10, arbitrary: pick(() => this.world.eventTypes, fc.constant('capture')) },
        { weight: 1, arbitrary: textOf(1, 64) },
      );
    }
    if (at.component === 'ActorByName' && at.property === 'name') {
      return fc.oneof(
        { weight: 3, arbitrary: pick(() => this.world.actorNames.map((a) => a.name), textOf(1, 300)) },
        { weight: 2, arbitrary: textOf(1, 300) },
      );
    }
    if (at.property === 'url' || at.property === 'archive_url') {
      return fc.oneof({ weight: 1, arbitrary: pick(() => this.world.urls, urlArb) }, { weight: 3, arbitrary: urlArb });
    }
    if (at.property === 'country' || at.component === 'CountryCode') {
      return fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...COUNTRIES) },
        { weight: 1, arbitrary: fc.constantFrom('ukr', 'UK', 'UKRA', 'U1R', '') },
      );
    }
    if (at.component === 'ApiKeyCreate' && at.property === 'name') {
      return fc.oneof(
        { weight: 6, arbitrary: fc.stringMatching(/^fuzz-[A-Za-z0-9._@-]{1,20}$/) },
        {
          weight: 1,
          arbitrary: fc.constantFrom('test-editor', 'test-admin', '-leading', '.dot', 'a b', 'ä', 'x'.repeat(101)),
        },
      );
    }
    return undefined;
  }

  /** A value that satisfies `schema` as JSON Schema (the rules zod adds on top may still refuse it). */
  valueOf(schema: JsonSchema, at: Context = {}): fc.Arbitrary<unknown> {
    const depth = at.depth ?? 0;
    if (depth > 10) return fc.constant(null);
    const hinted = this.hint(at);
    if (hinted) return hinted;
    const ref = Contract.refName(schema);
    if (ref) {
      const resolved = this.contract.resolve(schema);
      return this.valueOf(resolved, { component: ref, property: at.property, depth: depth + 1 });
    }
    if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
    if ('const' in schema) return fc.constant(schema.const);
    const branches = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
    if (branches) return fc.oneof(...branches.map((branch) => this.valueOf(branch, { ...at, depth: depth + 1 })));
    if (Array.isArray(schema.type)) {
      return fc.oneof(
        ...(schema.type as string[]).map((type) => this.valueOf({ ...schema, type }, { ...at, depth: depth + 1 })),
      );
    }
    const next = { ...at, depth: depth + 1 };
    switch (schema.type) {
      case 'string':
        return this.stringOf(schema, at);
      case 'integer': {
        const min = Math.max(Number(schema.minimum ?? -(2 ** 31)), -(2 ** 31));
        const max = Math.min(Number(schema.maximum ?? 2 ** 31), 2 ** 31);
        return fc.oneof(
          { weight: 6, arbitrary: fc.integer({ min, max }) },
          { weight: 1, arbitrary: fc.constantFrom(min, max) },
        );
      }
      case 'number': {
        const min = Math.max(Number(schema.minimum ?? schema.exclusiveMinimum ?? -1e9), -1e12);
        const max = Math.min(Number(schema.maximum ?? schema.exclusiveMaximum ?? 1e9), 1e12);
        const double = fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
        const valid =
          schema.exclusiveMinimum === undefined ? double : double.filter((n) => n > Number(schema.exclusiveMinimum));
        return fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: fc.constantFrom(min, max, 0) });
      }
      case 'boolean':
        return fc.boolean();
      case 'null':
        return fc.constant(null);
      case 'array': {
        const items = (schema.items ?? {}) as JsonSchema;
        const minLength = Number(schema.minItems ?? 0);
        const maxLength = Math.min(Number(schema.maxItems ?? 3), Math.max(minLength, 3));
        return fc.array(this.valueOf(items, { ...next, property: at.property }), { minLength, maxLength });
      }
      case 'object':
      case undefined: {
        const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
        const names = Object.keys(properties);
        const additional = schema.additionalProperties;
        if (names.length === 0 && additional && typeof additional === 'object') {
          const keys = schema.propertyNames
            ? this.stringOf(schema.propertyNames as JsonSchema, {})
            : fc.string({ maxLength: 10 });
          return fc.dictionary(keys, this.valueOf(additional as JsonSchema, next), { maxKeys: 3 });
        }
        if (names.length === 0)
          return schema.type === 'object'
            ? fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 })
            : fc.jsonValue({ maxDepth: 2 });
        const model = Object.fromEntries(
          names.map((name) => [
            name,
            this.valueOf(properties[name]!, { component: at.component, property: name, depth: depth + 1 }),
          ]),
        );
        return fc.record(model, { requiredKeys: (schema.required as string[] | undefined) ?? [] });
      }
      default:
        return fc.jsonValue({ maxDepth: 2 });
    }
  }

  private stringOf(schema: JsonSchema, at: Context): fc.Arbitrary<string> {
    const max = Number(schema.maxLength ?? 300);
    const min = Number(schema.minLength ?? 0);
    switch (schema.format) {
      case 'uuid':
        return fc.oneof(
          pick(() => Object.values(this.world.live).flat(), fc.uuid()),
          uuidArb,
        );
      case 'date':
        return dateArb;
      case 'date-time':
        return dateTimeArb;
      case 'uri':
        return urlArb;
    }
    if (typeof schema.pattern === 'string') {
      if (at.property === 'tags') {
        return fc.oneof(
          { weight: 4, arbitrary: pick(() => this.world.tags, fc.constant('pow')) },
          { weight: 2, arbitrary: textOf(1, 64).filter((tag) => !tag.includes(',')) },
          { weight: 1, arbitrary: textOf(0, 70) },
        );
      }
      const matching = fc
        .stringMatching(new RegExp(schema.pattern), { size: 'xsmall' })
        .filter((text) => text.length <= max);
      return fc.oneof({ weight: 8, arbitrary: matching }, { weight: 1, arbitrary: nastyArb });
    }
    return textOf(min, max);
  }

  /**
   * Objects valid by `schema` with only a few of their fields: a merge patch that changes one
   * or two things is accepted far more often than one that changes everything at once.
   */
  fewFieldsOf(schema: JsonSchema, max = 2): fc.Arbitrary<unknown> {
    const drawn = this.valueOf(schema) as fc.Arbitrary<Record<string, unknown>>;
    const few = fc.tuple(drawn, fc.array(fc.nat(), { minLength: 1, maxLength: max })).map(([body, picks]) => {
      const keys = Object.keys(body);
      return Object.fromEntries(
        keys.length === 0 ? [] : picks.map((n) => keys[n % keys.length]!).map((key) => [key, body[key]]),
      );
    });
    return fc.oneof({ weight: 3, arbitrary: few }, { weight: 1, arbitrary: drawn });
  }

  /** A JSON body for `schema`: valid by the schema, a mutation of one, any JSON, or raw text. */
  bodyOf(schema: JsonSchema, valid: fc.Arbitrary<unknown> = this.valueOf(schema)): fc.Arbitrary<BodyChoice> {
    return fc.oneof(
      { weight: 5, arbitrary: valid.map((value): BodyChoice => ({ kind: 'valid', text: JSON.stringify(value) })) },
      {
        weight: 5,
        arbitrary: fc
          .tuple(valid, fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
          .map(([value, mutations]): BodyChoice => ({
            kind: 'mutated',
            text: JSON.stringify(mutations.reduce((v, m) => m(v), value)),
          })),
      },
      {
        weight: 1,
        arbitrary: fc
          .jsonValue({ maxDepth: 4 })
          .map((value): BodyChoice => ({ kind: 'json', text: JSON.stringify(value) })),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(valid, rawBodyArb)
          .map(([value, raw]): BodyChoice => ({ kind: 'raw', text: raw(JSON.stringify(value)) })),
      },
    );
  }

  /** A broken value for query parameter `parameter`: derived from its schema without the rules, hostile, or of the wrong type. */
  brokenQueryValueOf(operation: Operation, parameter: Parameter): fc.Arbitrary<string | string[]> {
    const fromSchema = this.valueOf(parameter.schema, { property: parameter.name }).map((value) =>
      Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value : JSON.stringify(value),
    );
    const broken = BROKEN_QUERY_VALUES[parameter.name];
    return fc.oneof(
      ...(broken ? [{ weight: 3, arbitrary: fc.constantFrom(...broken) }] : []),
      { weight: 3, arbitrary: fromSchema },
      { weight: 3, arbitrary: nastyArb },
      { weight: 1, arbitrary: fc.constant('') },
      {
        weight: 1,
        arbitrary: fc.oneof(
          fc.integer().map(String),
          fc.double().map(String),
          fc.constantFrom('true', 'false', '1', '-0', '1e3', '0x10', ' 5', '5 '),
        ),
      },
      {
        weight: 1,
        arbitrary: this.validQueryValueOf(operation, parameter).map((value) =>
          Array.isArray(value) ? value : [value, value],
        ),
      },
    );
  }

  /** A value for query parameter `parameter` that its rules accept, aimed at data that exists where it names any. */
  validQueryValueOf(operation: Operation, parameter: Parameter): fc.Arbitrary<string | string[]> {
    const list = (item: fc.Arbitrary<string>) =>
      fc.oneof(
        { weight: 4, arbitrary: item },
        { weight: 2, arbitrary: fc.array(item, { minLength: 1, maxLength: 4 }).map((items) => items.join(',')) },
        { weight: 1, arbitrary: fc.array(item, { minLength: 2, maxLength: 3 }) },
      );
    // Free text goes through as it is: hostile strings included, they are valid values.
    const text = (max: number) =>
      textOf(1, max).filter((value) => value.trim().length > 0 && value.trim().length <= max);
    switch (parameter.name) {
      case 'type':
        return list(pick(() => this.world.eventTypes, fc.constant('capture')));
      case 'status':
        return list(fc.constantFrom(...EventStatusSchema.options));
      case 'stance':
        return list(fc.constantFrom(...StanceSchema.options));
      case 'role':
        return list(fc.constantFrom(...ParticipantRoleSchema.options));
      case 'min_reliability':
        return fc.constantFrom(...ReliabilitySchema.options);
      case 'kind':
        return fc.constantFrom(...ActorKindSchema.options);
      case 'country':
        return list(fc.constantFrom(...COUNTRIES));
      case 'admin1':
        return list(
          fc.oneof(
            pick(() => this.world.admin1, fc.constant('Kursk Oblast')),
            text(200).filter((value) => !value.includes(',')),
          ),
        );
      case 'tag':
        return list(
          fc.oneof(
            pick(() => this.world.tags, fc.constant('pow')),
            text(64).filter((value) => !value.includes(',')),
          ),
        );
      case 'reporter':
      case 'via':
      case 'actor':
        return list(pick(() => this.world.live.actors, fc.uuid()));
      case 'document':
        return list(pick(() => this.world.live.documents, fc.uuid()));
      case 'q':
        return fc.oneof(
          text(200),
          pick(() => this.world.actorNames.map((a) => a.name), fc.constant('Kursk')),
          // Runs of web-search operators: 33 dashes overflowed websearch_to_tsquery's stack (a 500).
          fc
            .tuple(
              fc.integer({ min: 1, max: 120 }),
              fc.constantFrom('-', '- ', '-(', '-!', '-<', '"-', 'or -'),
              fc.constantFrom('', 'Kursk'),
            )
            .map(([n, unit, word]) => `${unit.repeat(n).slice(0, 480)}${word}`),
        );
      case 'publisher':
        return fc.oneof(fc.constantFrom('Example Wire', 'Example News'), text(300));
      case 'occurred_from':
      case 'occurred_to':
        return dateArb;
      case 'stated_from':
      case 'stated_to':
        return fc.oneof(dateArb, dateTimeArb);
      case 'updated_since':
      case 'as_of':
        return fc.oneof(
          { weight: 1, arbitrary: dateTimeArb },
          {
            weight: 1,
            arbitrary: fc
              .date({ min: new Date('2020-01-01'), max: new Date('2035-01-01'), noInvalidDate: true })
              .map((d) => d.toISOString()),
          },
        );
      case 'bbox':
        return fc
          .tuple(
            fc.double({ min: -180, max: 180, noNaN: true }),
            fc.double({ min: -90, max: 0, noNaN: true }),
            fc.double({ min: -180, max: 180, noNaN: true }),
            fc.double({ min: 0, max: 90, noNaN: true }),
          )
          .map((numbers) => numbers.map((n) => String(Math.round(n * 1000) / 1000)).join(','));
      case 'near':
        return fc
          .tuple(fc.double({ min: -90, max: 90, noNaN: true }), fc.double({ min: -180, max: 180, noNaN: true }))
          .map(([lat, lon]) => `${lat},${lon}`);
      case 'radius_km':
        return fc.oneof(
          fc.double({ min: 0.001, max: 20_038, noNaN: true }).map(String),
          fc.constantFrom('1e-300', '20038', '0.5'),
        );
      case 'sort':
        return fc.constantFrom(
          ...(operation.operationId === 'listEvents'
            ? ['-occurred', 'occurred', '-updated', '-created']
            : ['-created', 'created']),
        );
      case 'format':
        return fc.constantFrom('json', 'csv', 'ndjson', 'geojson');
      case 'limit':
        return fc.oneof(fc.integer({ min: 1, max: 20 }).map(String), fc.constantFrom('1', '1000', '007', '+5'));
      case 'count':
      case 'include_deleted':
        return fc.constantFrom('true', 'false');
      case 'cursor':
      case 'since':
        return pick(
          () => this.world.cursors[operation.operationId] ?? [],
          fc.constant(parameter.name === 'since' ? '0' : 'W10'),
        );
    }
    return this.valueOf(parameter.schema, { property: parameter.name }).map((value) =>
      Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value : JSON.stringify(value),
    );
  }

  /** A path parameter of `operation`, encoded: an existing id mostly, else unknown, malformed or hostile. */
  pathParamOf(operation: Operation, parameter: Parameter, validOnly = false): fc.Arbitrary<string> {
    const broken = fc.oneof(
      { weight: 20, arbitrary: nastyArb.filter((text) => text !== '').map(encode) },
      { weight: 4, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).map(encode) },
      // Raw bytes the router has to decode, and a value past its maxParamLength (200).
      { weight: 1, arbitrary: fc.constantFrom('%zz', '%', '%E0%A4%A', 'a'.repeat(201)) },
    );
    let valid: fc.Arbitrary<string>;
    if (parameter.name === 'name') {
      valid = pick(() => this.world.keyNames, fc.constant('fuzz-none'));
    } else if (parameter.name === 'relation') {
      valid = this.valueOf(parameter.schema).map(String);
    } else {
      const resource = parameter.name === 'event_id' ? 'events' : (resourceOf(operation.path) ?? 'events');
      valid = fc.oneof(
        { weight: 12, arbitrary: this.idOf(resource) },
        { weight: 1, arbitrary: this.idOf(resource).map((id) => id.toUpperCase()) },
      );
    }
    if (validOnly)
      return parameter.name === 'name' || parameter.name === 'relation'
        ? valid
        : pick(
            () => this.world.live[parameter.name === 'event_id' ? 'events' : (resourceOf(operation.path) ?? 'events')],
            fc.uuid(),
          );
    return fc.oneof(
      { weight: 12, arbitrary: valid },
      { weight: 1, arbitrary: uuidArb },
      { weight: 2, arbitrary: broken },
    );
  }

  /**
   * A whole request for `operation`, derived from its parameters and request body in the contract.
   * `body` replaces the valid bodies drawn from the schema (to aim them at data that exists); an
   * If-Match of CURRENT_ETAG is for the caller to replace with the resource's ETag.
   */
  requestOf(
    operation: Operation,
    options: { body?: fc.Arbitrary<unknown>; path?: fc.Arbitrary<string>; queries?: boolean } = {},
  ): fc.Arbitrary<FuzzRequestDraft> {
    const reading = operation.method === 'get';
    const params = operation.parameters.filter((p) => p.in === 'path');
    const pathOf = (validOnly: boolean) => {
      const generated = fc
        .tuple(...params.map((p) => this.pathParamOf(operation, p, validOnly)))
        .map((values) =>
          params.reduce((template, p, index) => template.replace(`{${p.name}}`, values[index]!), operation.path),
        );
      return options.path
        ? fc.oneof({ weight: 2, arbitrary: options.path }, { weight: 1, arbitrary: generated })
        : generated;
    };
    const owner = fc.constant<Caller>(this.owners[operation.operationId] ?? 'editor');
    const headerNames = new Set(operation.parameters.filter((p) => p.in === 'header').map((p) => p.name));
    const schemas = operation.body?.content ?? {};
    const types = Object.keys(schemas);
    const firstSchema = types.length > 0 ? schemas[types[0]!] : undefined;
    const validBody = firstSchema ? (options.body ?? this.valueOf(firstSchema)) : undefined;
    const none = fc.constant(undefined);

    // Every part as the contract wants it: such requests get past validation to the database.
    const clean = fc.record({
      method: fc.constant(operation.method.toUpperCase()),
      path: pathOf(true),
      query: reading ? fc.option(this.queryOf(operation, true), { nil: undefined }) : none,
      caller: reading ? fc.constantFrom<Caller>('anonymous', 'reader', 'editor', 'admin') : owner,
      authorization: none,
      ifMatch: headerNames.has('if-match')
        ? operation.operationId === 'createEventReport'
          ? fc.constantFrom(undefined, CURRENT_ETAG)
          : fc.oneof({ weight: 6, arbitrary: fc.constant(CURRENT_ETAG) }, { weight: 1, arbitrary: fc.constant('*') })
        : none,
      idempotency: headerNames.has('idempotency-key') ? fc.option(fc.uuid(), { nil: undefined }) : none,
      ifNoneMatch: none,
      accept: none,
      body: validBody
        ? validBody.map((value): BodyChoice | undefined => ({ kind: 'valid', text: JSON.stringify(value) }))
        : fc.constant<BodyChoice | undefined>(undefined),
      contentType: types.length > 0 ? fc.constantFrom(...types) : none,
      proxy: fc.constant({}),
    });

    // Every part drawn independently, each now and then wrong.
    const query =
      reading || options.queries
        ? this.queryOf(operation)
        : fc.oneof({ weight: 15, arbitrary: none }, { weight: 1, arbitrary: this.queryOf(operation) });
    const caller = fc.oneof(
      { weight: reading ? 4 : 16, arbitrary: owner },
      { weight: reading ? 4 : 1, arbitrary: fc.constant<Caller>('anonymous') },
      { weight: reading ? 2 : 1, arbitrary: fc.constantFrom<Caller>('reader', 'editor', 'admin') },
    );
    const ifMatch = headerNames.has('if-match')
      ? fc.oneof(
          { weight: operation.operationId === 'createEventReport' ? 2 : 12, arbitrary: fc.constant(CURRENT_ETAG) },
          { weight: 2, arbitrary: none },
          { weight: 1, arbitrary: fc.constant('*') },
          { weight: 2, arbitrary: badIfMatchArb },
        )
      : none;
    const single = /\{id\}$/.test(operation.path) && reading;
    const body: fc.Arbitrary<BodyChoice | undefined> = firstSchema
      ? fc.oneof(
          { weight: 20, arbitrary: this.bodyOf(firstSchema, validBody) },
          { weight: operation.body?.required ? 1 : 6, arbitrary: none },
        )
      : fc.oneof(
          { weight: 20, arbitrary: none },
          {
            weight: 1,
            arbitrary: fc
              .jsonValue({ maxDepth: 2 })
              .map((v): BodyChoice => ({ kind: 'json', text: JSON.stringify(v) })),
          },
        );
    const mixed = fc.record({
      method: reading
        ? fc.oneof({ weight: 24, arbitrary: fc.constant('GET') }, { weight: 1, arbitrary: fc.constant('HEAD') })
        : fc.constant(operation.method.toUpperCase()),
      path: pathOf(false),
      query,
      caller,
      authorization: fc.oneof({ weight: 30, arbitrary: none }, { weight: 1, arbitrary: badAuthorizationArb }),
      ifMatch,
      idempotency: headerNames.has('idempotency-key') ? idempotencyKeyArb : none,
      ifNoneMatch: single
        ? fc.oneof(
            { weight: 6, arbitrary: none },
            { weight: 1, arbitrary: fc.constantFrom('"1"', '"2"', '*', 'W/"1"', '"1", "2"', 'garbage', '') },
          )
        : none,
      accept: reading ? acceptArb : none,
      body,
      contentType: contentTypeArb(types.length > 0 ? types : ['application/json']),
      proxy: proxyHeadersArb,
    });

    return fc.oneof({ weight: 1, arbitrary: clean }, { weight: 2, arbitrary: mixed }).map((draft) => {
      const headers: Record<string, string> = { ...draft.proxy };
      if (draft.authorization !== undefined) headers.authorization = draft.authorization;
      if (draft.ifMatch !== undefined) headers['if-match'] = draft.ifMatch;
      if (draft.idempotency !== undefined) headers['idempotency-key'] = draft.idempotency;
      if (draft.ifNoneMatch !== undefined) headers['if-none-match'] = draft.ifNoneMatch;
      if (draft.accept !== undefined) headers.accept = draft.accept;
      if (draft.body !== undefined && draft.contentType !== undefined) headers['content-type'] = draft.contentType;
      return {
        method: draft.method,
        path: draft.path,
        ...(draft.query !== undefined ? { query: draft.query } : {}),
        headers,
        ...(draft.body !== undefined ? { body: draft.body.text } : {}),
        bodyKind: draft.body?.kind ?? 'none',
        as: draft.caller,
      };
    });
  }

  /**
   * A raw query string for `operation`: declared parameters with values their rules accept
   * (so a hostile free-text value reaches the database), or with one of them broken, or a
   * mix of anything; sometimes unknown, repeated, empty, badly encoded or huge.
   */
  queryOf(operation: Operation, validOnly = false): fc.Arbitrary<string | undefined> {
    const declared = operation.parameters.filter((p) => p.in === 'query');
    type Pair = [string, string | string[]];
    const none = fc.constant([] as Pair[]);
    const validPairs =
      declared.length > 0
        ? fc.uniqueArray(
            fc.oneof(...declared.map((p) => this.validQueryValueOf(operation, p).map((v): Pair => [p.name, v]))),
            {
              maxLength: 4,
              selector: ([name]) => name,
            },
          )
        : none;
    const brokenPair =
      declared.length > 0
        ? fc.oneof(...declared.map((p) => this.brokenQueryValueOf(operation, p).map((v): Pair => [p.name, v])))
        : none.map(() => ['x', 'y'] as Pair);
    const anyPairs =
      declared.length > 0
        ? fc.array(
            fc.oneof(
              ...declared.map((p) =>
                fc
                  .oneof(this.validQueryValueOf(operation, p), this.brokenQueryValueOf(operation, p))
                  .map((v): Pair => [p.name, v]),
              ),
            ),
            { maxLength: 5 },
          )
        : none;
    // near and radius_km only come together: a valid query that has one gets the other.
    const paired = validPairs.map((valid) => {
      const names = new Set(valid.map(([name]) => name));
      if (names.has('near') && !names.has('radius_km')) return [...valid, ['radius_km', '150'] as Pair];
      if (names.has('radius_km') && !names.has('near')) return [...valid, ['near', '51.7,36.2'] as Pair];
      return valid;
    });
    const pairs = fc.oneof(
      { weight: 5, arbitrary: paired },
      {
        weight: 4,
        arbitrary: fc
          .tuple(validPairs, brokenPair)
          .map(([valid, broken]) => [...valid.filter(([name]) => name !== broken[0]), broken]),
      },
      { weight: 2, arbitrary: anyPairs },
    );
    const extra = fc.oneof(
      { weight: 20, arbitrary: fc.constant('') },
      {
        weight: 1,
        arbitrary: fc
          .tuple(
            fc.constantFrom('x', 'unknown', 'Limit', 'TYPE', '__proto__', 'constructor', 'q[]', 'a.b', ''),
            fc.string({ maxLength: 8 }),
          )
          .map(([k, v]) => `${encode(k)}=${encode(v)}`),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          '%zz',
          '%',
          'a=%E0%A4%A',
          'q=%ED%A0%80',
          '&&&',
          '=',
          '=5',
          ';',
          'q=a+b',
          'q=%2B%2F',
          'q=%00',
        ),
      },
      ...(declared.length > 0
        ? [{ weight: 1, arbitrary: fc.constantFrom(...declared.map((p) => p.name)).map((name) => `${name}=&${name}=`) }]
        : []),
    );
    // Past the app's URL limit (4 KB), and past Node's header limit (16 KB).
    const huge = fc.oneof(
      { weight: 400, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.constantFrom(5_000, 20_000) },
    );
    if (validOnly)
      return paired.map(
        (chosen) =>
          chosen
            .flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v) => `${name}=${encode(v)}`))
            .join('&') || undefined,
      );
    return fc.tuple(pairs, extra, huge, fc.boolean()).map(([chosen, extraPart, isHuge, withMark]) => {
      const parts = chosen.flatMap(([name, value]) =>
        (Array.isArray(value) ? value : [value]).map((v) => `${name}=${encode(v)}`),
      );
      if (extraPart) parts.push(extraPart);
      if (isHuge) parts.push(`q=${'z'.repeat(isHuge)}`);
      if (parts.length === 0) return withMark ? '' : undefined;
      return parts.join('&');
    });
  }
}

/** Values each query parameter's rules refuse (or that sit on their edge). */
const BROKEN_QUERY_VALUES: Record<string, string[]> = {
  min_reliability: ['G', 'a', 'AB'],
  sort: ['relevance', 'created', '-id', 'occurred,-created', 'RELEVANCE'],
  format: ['xml', 'JSON', 'csv,json'],
  limit: ['0', '1001', '-1', '2.5', '1e2', 'abc', '0x10', 'Infinity'],
  count: ['TRUE', '1', 'yes'],
  include_deleted: ['TRUE', '1', 'yes'],
  radius_km: ['0', '-1', '20039', 'Infinity', 'NaN'],
  bbox: ['1,2,3', '1,2,3,4,5', '181,0,0,0', '0,91,0,0', '0,10,0,-10', 'a,b,c,d', ',,,'],
  near: ['91,0', '0,181', '1', '1,2,3', 'a,b'],
  cursor: ['WyJ4Il0', 'W10', '!!!', '0', 'a'.repeat(2001)],
  since: ['-1', '9'.repeat(19), '1.5', 'abc'],
  country: ['ukr', 'UK', 'U1R'],
  type: ['Capture', 'no spaces allowed'],
};

export interface BodyChoice {
  kind: 'valid' | 'mutated' | 'json' | 'raw';
  text: string | Buffer;
}

/** encodeURIComponent, or the bytes of a lone surrogate (invalid UTF-8) where it refuses. */
export function encode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return text
      .split('')
      .map((c) => {
        try {
          return encodeURIComponent(c);
        } catch {
          return '%ED%A0%80';
        }
      })
      .join('');
  }
}

type Json = unknown;
type Path = (string | number)[];

function pathsOf(value: Json, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (out.length > 200 || prefix.length > 12) return out;
  if (Array.isArray(value)) value.forEach((item, index) => pathsOf(item, [...prefix, index], out));
  else if (value && typeof value === 'object')
    for (const [key, item] of Object.entries(value)) pathsOf(item, [...prefix, key], out);
  return out;
}

/** Returns a copy of `root` with the value at `path` replaced by `change(current)` (undefined deletes it). */
function updateAt(root: Json, path: Path, change: (current: Json) => Json): Json {
  if (path.length === 0) return change(root);
  const copy = structuredClone(root) as Record<string | number, Json>;
  let parent = copy;
  for (const segment of path.slice(0, -1)) parent = parent[segment] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  const next = change(parent[last]);
  if (next === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else parent[last] = next;
  return copy;
}

function nest(depth: number, inner: Json): Json {
  let value = inner;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value };
  return value;
}

/** One random change to a JSON value: a field dropped, added, retyped, nulled, enlarged or made strange. */
export const mutationArb: fc.Arbitrary<(value: Json) => Json> = fc
  .tuple(
    fc.nat(),
    fc.constantFrom(...MUTATIONS),
    fc.jsonValue({ maxDepth: 3 }),
    nastyArb,
    fc.constantFrom(...NUMBER_EDGES),
    fc.integer({ min: 2, max: 250 }),
  )
  .map(([index, kind, replacement, nasty, number, count]) => (value: Json) => {
    const paths = pathsOf(value);
    const path = paths[index % paths.length]!;
    switch (kind) {
      case 'delete':
        return path.length === 0 ? {} : updateAt(value, path, () => undefined);
      case 'null':
        return updateAt(value, path, () => null);
      case 'replace':
        return updateAt(value, path, () => replacement);
      case 'wrongType':
        return updateAt(value, path, (current) =>
          typeof current === 'string'
            ? count
            : typeof current === 'number'
              ? String(current)
              : Array.isArray(current)
                ? { 0: current[0] ?? null }
                : typeof current === 'object' && current
                  ? [current]
                  : typeof current === 'boolean'
                    ? 'true'
                    : 1,
        );
      case 'huge':
        return updateAt(value, path, (current) =>
          Array.isArray(current) ? Array.from({ length: count * 4 }, () => current[0] ?? 'x') : 'x'.repeat(count * 400),
        );
      case 'deep':
        return updateAt(value, path, () => nest(count, 'deep'));
      case 'unknownKey':
        return updateAt(value, path, (current) =>
          current && typeof current === 'object' && !Array.isArray(current)
            ? { ...current, [nasty || 'extra']: replacement }
            : current,
        );
      case 'number':
        return updateAt(value, path, () => number);
      case 'emptyString':
        return updateAt(value, path, () => '');
      case 'nasty':
        return updateAt(value, path, () => nasty);
      case 'stringify':
        return updateAt(value, path, (current) => JSON.stringify(current) ?? 'undefined');
      case 'repeat':
        return updateAt(value, path, (current) =>
          Array.isArray(current)
            ? Array.from({ length: count }, (_, i) => current[i % Math.max(current.length, 1)] ?? null)
            : current,
        );
      case 'emptyObject':
        return updateAt(value, path, () => ({}));
      default:
        return updateAt(value, path, () => []);
    }
  });

/** Raw bodies built from a valid JSON text: broken, truncated, wrapped, re-encoded, enormous. */
export const rawBodyArb: fc.Arbitrary<(json: string) => string | Buffer> = fc.oneof(
  { weight: 3, arbitrary: fc.nat().map((n) => (json: string) => json.slice(0, n % Math.max(json.length, 1))) },
  {
    weight: 6,
    arbitrary: fc.constantFrom<(json: string) => string | Buffer>(
      () => '',
      () => ' ',
      () => 'null',
      () => 'true',
      () => '0',
      () => '"text"',
      () => '[]',
      () => '{}',
      () => 'NaN',
      () => '{"a":}',
      () => "{'a':1}",
      () => '{"title":1e400}',
      () => '{"credibility":-0.0e-0}',
      () => '{"__proto__":{"admin":true}}',
      () => '{"constructor":{"prototype":{"admin":true}}}',
      () => '{"title":"\\ud800"}',
      () => '{"title":"\\u0000"}',
      () => '['.repeat(20_000) + ']'.repeat(20_000),
      () => '{"a":'.repeat(3000) + '1' + '}'.repeat(3000),
      (json) => `${json} trailing`,
      (json) => `${json}${json}`,
      (json) => `\ufeff${json}`,
      (json) => `  \n${json}\n  `,
      (json) => json.replace(/^\{/, '{"type":"x",'),
      (json) => Buffer.from(json, 'utf16le'),
      (json) => Buffer.concat([Buffer.from(json.slice(0, -1)), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('}')]),
      (json) => json.replaceAll('"', "'"),
    ),
  },
  { weight: 1, arbitrary: fc.constant(() => JSON.stringify({ title: 'x'.repeat(1_100_000) })) },
);

/** Content-Type values: the declared ones mostly, then near misses and wrong ones, or none at all. */
export function contentTypeArb(declared: string[]): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 24, arbitrary: fc.constantFrom(...declared) },
    {
      weight: 4,
      arbitrary: fc.constantFrom(...ODD_CONTENT_TYPES),
    },
  );
}

export const idempotencyKeyArb: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 10, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.uuid() },
  { weight: 2, arbitrary: fc.constantFrom('fuzz-key-1', 'fuzz-key-2') },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', ' ', 'a b', 'é', 'k'.repeat(255), 'k'.repeat(256), '\u00ff', '"quoted"'),
  },
);

/** Authorization header values that are not a key of the test app. */
export const badAuthorizationArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    'Bearer',
    'Bearer ',
    'Basic dXNlcjpwYXNz',
    'bearer x',
    'Token abc',
    'Bearer a b',
    'Bearer \u00e9',
  ),
  fc.stringMatching(/^[A-Za-z0-9_-]{43}$/).map((key) => `Bearer cek_${key}`),
  fc.string({ maxLength: 60 }).map((s) => `Bearer ${s}`),
);

/** If-Match values other than the current version: stale, weak, malformed, lists. */
export const badIfMatchArb: fc.Arbitrary<string> = fc.constantFrom(...BAD_IF_MATCH);

export const acceptArb: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 8, arbitrary: fc.constant(undefined) },
  {
    weight: 4,
    arbitrary: fc.constantFrom(...ACCEPTS),
  },
);

/** X-Forwarded-For values: addresses and chains of them, with a client's own entries first, and garbage (3 KB of it too). */
const forwardedForArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.oneof(fc.ipV4(), fc.ipV6()) },
  {
    weight: 3,
    arbitrary: fc
      .array(fc.oneof(fc.ipV4(), fc.ipV6()), { minLength: 2, maxLength: 5 })
      .map((chain) => chain.join(', ')),
  },
  { weight: 2, arbitrary: fc.tuple(nastyArb, fc.ipV4()).map(([spoofed, proxy]) => `${spoofed}, ${proxy}`) },
  { weight: 2, arbitrary: nastyArb },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'x'.repeat(3000),
      `${'9'.repeat(200)}, junk`,
      'unknown',
      '127.0.0.1',
      '::ffff:10.0.0.1',
      ',',
      ' , ',
    ),
  },
);

/** X-Forwarded-Host values (and Host ones): names, with ports, and what must never reach a Link header. */
const forwardedHostArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.domain() },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.domain(), fc.integer({ min: 1, max: 65535 })).map(([host, port]) => `${host}:${port}`),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'a b',
      'evil.example>; rel="prev", <http://evil.example',
      'x@evil.example',
      'evil.example/path?',
      '[::1]:8080',
      '',
      ':',
    ),
  },
  { weight: 1, arbitrary: nastyArb },
);

/** The headers a proxy in front would set, and a client could forge: none mostly, else any of them. */
export const proxyHeadersArb: fc.Arbitrary<Record<string, string>> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({}) },
  {
    weight: 3,
    arbitrary: fc.record(
      {
        'x-forwarded-for': forwardedForArb,
        'x-forwarded-host': forwardedHostArb,
        'x-forwarded-proto': fc.constantFrom('https', 'http', 'javascript', 'https, http', ''),
        host: forwardedHostArb.filter((host) => host.trim() !== ''),
      },
      { requiredKeys: [] },
    ),
  },
);
