// The one place that knows both ACLED's codebook and ours: the columns exported,
// ACLED's event and sub-event types, the precision codes, countries, and the tags that
// carry what neither side has a field for. The export (acled.ts beside it) and the import
// reader (src/modules/acled/import.ts) both map through it, so a round trip goes through the same rules twice.
// docs/acled.md is the human version of this file.
import { createRequire } from 'node:module';
import type { z } from 'zod';
import type { DatePrecisionSchema, LocationPrecisionSchema, ParticipantRoleSchema } from '../schemas.js';

/**
 * ACLED's columns that the export writes, by ACLED's names and in the order of ACLED's own exports (a subset of its
 * 31).
 */
export const ACLED_COLUMNS = [
  'event_id_cnty',
  'event_date',
  'year',
  'time_precision',
  'disorder_type',
  'event_type',
  'sub_event_type',
  'actor1',
  'assoc_actor_1',
  'actor2',
  'assoc_actor_2',
  'iso',
  'country',
  'admin1',
  'admin2',
  'admin3',
  'location',
  'latitude',
  'longitude',
  'geo_precision',
  'source',
  'source_scale',
  'notes',
  'fatalities',
  'tags',
  'timestamp',
] as const;
export type AcledColumn = (typeof ACLED_COLUMNS)[number];

/** ACLED separates the items of a list cell (sources, associated actors, tags) with a semicolon. */
export const LIST_SEPARATOR = '; ';

export function splitList(cell: string): string[] {
  const items: string[] = [];
  for (const part of cell.split(';')) {
    const item = part.trim();
    if (item !== '' && !items.includes(item)) items.push(item);
  }
  return items;
}

// ---------------------------------------------------------------- event types

/** ACLED's 25 sub-event types, each with its event type and disorder type (ACLED codebook, table 2). */
const SUB_EVENT_TYPES: Record<string, { eventType: string; disorderType: string }> = {};
function subEvents(eventType: string, disorderType: string, names: string[]): void {
  for (const name of names) SUB_EVENT_TYPES[name] = { eventType, disorderType };
}
subEvents('Battles', 'Political violence', [
  'Government regains territory',
  'Non-state actor overtakes territory',
  'Armed clash',
]);
subEvents('Protests', 'Political violence; Demonstrations', ['Excessive force against protesters']);
subEvents('Protests', 'Demonstrations', ['Protest with intervention', 'Peaceful protest']);
subEvents('Riots', 'Demonstrations', ['Violent demonstration']);
subEvents('Riots', 'Political violence', ['Mob violence']);
subEvents('Explosions/Remote violence', 'Political violence', [
  'Chemical weapon',
  'Air/drone strike',
  'Suicide bomb',
  'Shelling/artillery/missile attack',
  'Remote explosive/landmine/IED',
  'Grenade',
]);
subEvents('Violence against civilians', 'Political violence', [
  'Sexual violence',
  'Attack',
  'Abduction/forced disappearance',
]);
subEvents('Strategic developments', 'Strategic developments', [
  'Agreement',
  'Arrests',
  'Change to group/activity',
  'Disrupted weapons use',
  'Headquarters or base established',
  'Looting/property destruction',
  'Non-violent transfer of territory',
  'Other',
]);

/** ACLED's disorder type of a sub-event type; empty for one the codebook does not list. */
export const disorderType = (subEventType: string): string => SUB_EVENT_TYPES[subEventType]?.disorderType ?? '';

/**
 * Catch-all sub-event types: each covers more than a narrower type of ours that shares its pair
 * (an Agreement may be a ceasefire as well as a prisoner exchange), so an import reads them only
 * as the type that stands for the ACLED type itself (see AcledTypes.codeOf).
 */
const CATCH_ALL_SUB_EVENT_TYPES = new Set(['Agreement', 'Other']);

/** An entry of the event-type vocabulary (GET /v1/event-types), as far as ACLED is concerned. */
export interface VocabularyEntry {
  code: string;
  label: string;
  acled_event_type: string | null;
  acled_sub_event_type: string | null;
}

export interface AcledPair {
  eventType: string;
  subEventType: string;
}

const pairKey = (pair: AcledPair) => `${pair.eventType}\u0000${pair.subEventType}`;

/** The type of an event without an ACLED type, and of an ACLED row whose type we cannot place. */
export const FALLBACK_TYPE = 'other';

/**
 * Our types <-> ACLED's, from the vocabulary table. Export: a code's ACLED pair, or none.
 * Import: the code whose pair it is and whose label is the sub-event type's name (the type that
 * stands for ACLED's own, as the vocabulary seeds them); else the only code with that pair,
 * unless the sub-event type is a catch-all; else `other`.
 */
export class AcledTypes {
  private readonly byCode = new Map<string, VocabularyEntry>();
  private readonly byPair = new Map<string, string[]>();

  constructor(vocabulary: readonly VocabularyEntry[]) {
    for (const entry of vocabulary) {
      this.byCode.set(entry.code, entry);
      const pair = this.pairOf(entry.code);
      if (!pair) continue;
      const codes = this.byPair.get(pairKey(pair)) ?? [];
      codes.push(entry.code);
      this.byPair.set(pairKey(pair), codes);
    }
  }

  has(code: string): boolean {
    return this.byCode.has(code);
  }

  label(code: string): string {
    return this.byCode.get(code)?.label ?? code;
  }

  /** The ACLED event and sub-event type the vocabulary gives a code, or null. */
  pairOf(code: string): AcledPair | null {
    const entry = this.byCode.get(code);
    if (!entry?.acled_event_type || !entry.acled_sub_event_type) return null;
    return { eventType: entry.acled_event_type, subEventType: entry.acled_sub_event_type };
  }

  /** Our code for an ACLED pair (null: none written); see the class. */
  codeOf(pair: AcledPair | null): string {
    if (!pair) return FALLBACK_TYPE;
    const codes = this.byPair.get(pairKey(pair)) ?? [];
    const own = codes.filter((code) => this.label(code).toLowerCase() === pair.subEventType.toLowerCase());
    if (own.length === 1) return own[0]!;
    return codes.length === 1 && !CATCH_ALL_SUB_EVENT_TYPES.has(pair.subEventType) ? codes[0]! : FALLBACK_TYPE;
  }
}

export const samePair = (a: AcledPair | null, b: AcledPair | null): boolean =>
  a === null || b === null ? a === b : a.eventType === b.eventType && a.subEventType === b.subEventType;

// ---------------------------------------------------------------- tags that carry values

/**
 * Tags that carry what one side has no field for. `type=<code>`: our type, written to ACLED's tags
 * when its event and sub-event type would not give it back. `acled:<column>=<value>`: an ACLED
 * value we have no field for, kept on import and written back to its column on export.
 */
export const TYPE_TAG = 'type=';
export const ACLED_TAG = 'acled:';
export const ACLED_TAG_COLUMNS = ['event_type', 'sub_event_type', 'source_scale'] as const;
export type AcledTagColumn = (typeof ACLED_TAG_COLUMNS)[number];

export const acledTag = (column: AcledTagColumn, value: string) => `${ACLED_TAG}${column}=${value}`;

/** The values of `acled:` tags by column (first one wins). */
export function acledTagValues(tags: readonly string[]): Partial<Record<AcledTagColumn, string>> {
  const values: Partial<Record<AcledTagColumn, string>> = {};
  for (const tag of tags) {
    if (!tag.startsWith(ACLED_TAG)) continue;
    const at = tag.indexOf('=');
    const column = tag.slice(ACLED_TAG.length, at) as AcledTagColumn;
    if (at > 0 && ACLED_TAG_COLUMNS.includes(column)) values[column] ??= tag.slice(at + 1);
  }
  return values;
}

/** What our tags accept (events/schemas.ts TagSchema): 1 to 64 characters, no comma. */
export const isStorableTag = (tag: string): boolean => tag.length >= 1 && tag.length <= 64 && !tag.includes(',');

// ---------------------------------------------------------------- precision codes

type DatePrecision = z.infer<typeof DatePrecisionSchema>;
type LocationPrecision = z.infer<typeof LocationPrecisionSchema>;

const DAY_MS = 86_400_000;
const toDay = (date: string) => Date.parse(`${date}T00:00:00Z`) / DAY_MS;
const fromDay = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

/** Days after event_date that an ACLED time precision spans: 2 is a week (7 days), 3 a month (31 days). */
const WINDOW_AFTER: Record<2 | 3, number> = { 2: 6, 3: 30 };

/**
 * event_date and time_precision of our occurred interval. event_date is always the start: ACLED
 * counts an event on its event_date whatever its precision, and the stats here count it in the
 * period of its occurred start, so both count it in the same day, week, month and year.
 * time_precision: a day 1, a week 2, a month or a year 3; a range by its length.
 */
export function acledDate(occurred: { start: string; end: string; precision: DatePrecision }): {
  date: string;
  precision: 1 | 2 | 3;
} {
  const span = toDay(occurred.end) - toDay(occurred.start);
  const precisions: Record<DatePrecision, 1 | 2 | 3> = {
    day: 1,
    week: 2,
    month: 3,
    year: 3,
    range: span === 0 ? 1 : span <= WINDOW_AFTER[2] ? 2 : 3,
  };
  return { date: occurred.start, precision: precisions[occurred.precision] };
}

/**
 * Our occurred interval for an ACLED date: the day (1), or a week (2) or a month (3) from it.
 * It starts on event_date, so that the event counts where ACLED counts it (see acledDate).
 */
export function occurredOf(
  date: string,
  timePrecision: 1 | 2 | 3,
): { start: string; end: string; precision: DatePrecision } {
  if (timePrecision === 1) return { start: date, end: date, precision: 'day' };
  return {
    start: date,
    end: fromDay(toDay(date) + WINDOW_AFTER[timePrecision]),
    precision: timePrecision === 2 ? 'week' : 'month',
  };
}

/** geo_precision of our location precision: 1 a named place, 2 near it or part of a region, 3 a larger region. */
export const GEO_PRECISION: Record<LocationPrecision, 1 | 2 | 3 | null> = {
  exact: 1,
  near: 2,
  admin2: 2,
  admin1: 3,
  country: 3,
  water: 3,
  unknown: null,
};

/** Our location precision of ACLED's geo_precision. */
export const LOCATION_PRECISION: Record<1 | 2 | 3, LocationPrecision> = { 1: 'exact', 2: 'near', 3: 'admin1' };

// ---------------------------------------------------------------- countries

interface CountryCodes {
  alpha3ToNumeric(code: string): string | undefined;
  numericToAlpha3(code: string): string | undefined;
  getName(code: string, lang: string): string | undefined;
  getAlpha3Code(name: string, lang: string): string | undefined;
  registerLocale(locale: unknown): void;
}
// The package's main entry loads every language; only English names are needed.
const require = createRequire(import.meta.url);
const countries = require('i18n-iso-countries/index.js') as CountryCodes;
countries.registerLocale(require('i18n-iso-countries/langs/en.json'));

/** ACLED's spelling where it differs from the ISO short name. */
const ACLED_COUNTRY_NAMES: Record<string, string> = {
  BRN: 'Brunei',
  CIV: 'Ivory Coast',
  COD: 'Democratic Republic of Congo',
  COG: 'Republic of Congo',
  CZE: 'Czech Republic',
  GMB: 'Gambia',
  IRN: 'Iran',
  KOR: 'South Korea',
  LAO: 'Laos',
  MDA: 'Moldova',
  MKD: 'North Macedonia',
  PRK: 'North Korea',
  PSE: 'Palestine',
  RUS: 'Russia',
  SWZ: 'eSwatini',
  SYR: 'Syria',
  TUR: 'Turkey',
  TZA: 'Tanzania',
  USA: 'United States',
  XKX: 'Kosovo',
};
const BY_ACLED_NAME = new Map(Object.entries(ACLED_COUNTRY_NAMES).map(([code, name]) => [name.toLowerCase(), code]));

const NO_COUNTRY = { iso: '', name: '' };
/** Each country looked up once: an export asks for the same few countries on every row. */
const ACLED_COUNTRIES = new Map<string, { iso: string; name: string }>();

/** ACLED's iso (ISO 3166-1 numeric, without leading zeros) and country name of our alpha-3 code. */
export function acledCountry(alpha3: string | null): { iso: string; name: string } {
  if (!alpha3) return NO_COUNTRY;
  let country = ACLED_COUNTRIES.get(alpha3);
  if (!country) {
    const numeric = countries.alpha3ToNumeric(alpha3);
    country = {
      iso: numeric ? String(Number(numeric)) : '',
      name: ACLED_COUNTRY_NAMES[alpha3] ?? countries.getName(alpha3, 'en') ?? '',
    };
    ACLED_COUNTRIES.set(alpha3, country);
  }
  return country;
}

/** Our alpha-3 code of ACLED's iso (preferred), iso3 (files before 2023) or country name; null when none is known. */
export function countryOf(iso: string, name: string, iso3 = ''): string | null {
  if (/^\d{1,3}$/.test(iso)) {
    const code = countries.numericToAlpha3(iso.padStart(3, '0'));
    if (code) return code;
  }
  const alpha3 = iso3.toUpperCase();
  if (/^[A-Z]{3}$/.test(alpha3) && (countries.alpha3ToNumeric(alpha3) || ACLED_COUNTRY_NAMES[alpha3])) return alpha3;
  if (!name) return null;
  return BY_ACLED_NAME.get(name.toLowerCase()) ?? countries.getAlpha3Code(name, 'en') ?? null;
}

// ---------------------------------------------------------------- actors

/**
 * Our actor kind of an ACLED actor, from its name alone, so that one name is one actor wherever
 * it appears (actors are found by kind and name). Not from inter1/inter2: ACLED codes one actor
 * by where it acts (Russia's forces are State forces in Russia, External/Other forces in
 * Ukraine), and associated actors have no inter at all. ACLED names the state forces of its
 * category 1 "Military Forces of <country> (<years>)" and "Police Forces of <country> (<years>)",
 * with a unit after it at times, and governments "Government of <country> (<years>)"; every other
 * ACLED actor is collective (a group, a militia, protesters, civilians): group.
 */
export function actorKindOf(name: string): 'military' | 'state' | 'group' {
  if (/^(military|police) forces of /i.test(name)) return 'military';
  if (/^government of /i.test(name)) return 'state';
  return 'group';
}

/** The reporter kind of a source: ACLED names outlets and organisations alike, mostly media. */
export const SOURCE_KIND = 'media';

type ParticipantRole = z.infer<typeof ParticipantRoleSchema>;

/**
 * ACLED's two sides, actor1 with assoc_actor_1 and actor2 with assoc_actor_2, of our roles.
 * ACLED gives its sides no direction; ours do, and the export keeps the initiating roles first.
 */
export const SIDE_OF_ROLE: Record<ParticipantRole, 1 | 2> = {
  perpetrator: 1,
  sender: 1,
  subject: 1,
  other: 1,
  supporter: 1,
  target: 2,
  victim: 2,
  recipient: 2,
};

/** The role an import gives each side's actors. */
export const ROLE_OF_SIDE: Record<1 | 2, ParticipantRole> = { 1: 'perpetrator', 2: 'target' };
