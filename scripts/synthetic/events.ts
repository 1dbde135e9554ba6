// The event generator: one event at a time, with its reports, documents, figures,
// participants, via links and now and then a relation. Each event is made as the body
// POST /v1/events takes (actors and documents by id), turned into rows by the API's own
// mapping (eventRows, src/modules/events/writes.ts) and appended as COPY text rows to the
// buffers of the current chunk, stamped with the made-up created_at and author the API
// would set itself. Events come out in occurred order (the i-th of N sits at quantile i/N
// of the yearly intensity), so a document can be shared by the reports of nearby events
// and ids grow with created_at.
import { uuidv7 } from '../../src/db/uuid.js';
import type { ActorRef } from '../../src/modules/actors/schemas.js';
import type { DocumentRef as DocumentReference } from '../../src/modules/documents/schemas.js';
import type { FigureInput } from '../../src/modules/figures/schemas.js';
import type { EventInput, ParticipantInput } from '../../src/modules/events/schemas.js';
import { eventRows } from '../../src/modules/events/writes.js';
import type { ReportInput } from '../../src/modules/reports/schemas.js';
import type { ActorWorld, CountryActors } from './actors.js';
import { CopyTable, DAY_MS, HOUR_MS, day, grouped, timestamp } from './copy-text.js';
import { Rng, Weighted } from './random.js';
import {
  AFTERMATHS,
  COUNTRIES,
  DESCRIPTION_OPENERS,
  EQUIPMENT_UNITS,
  EVENT_TYPES,
  FIRST_YEAR,
  LAST_YEAR,
  STRIKE_TARGETS,
  TAGS,
  TYPE_TAGS,
  WEAPONS,
  type Country,
} from './world.js';

export const TABLES = [
  'documents',
  'events',
  'reports',
  'report_via',
  'participants',
  'figures',
  'event_relations',
] as const;
export type TableName = (typeof TABLES)[number];

/** A chunk's rows, table by table. */
export type Rows = Record<TableName, CopyTable>;

export function emptyRows(): Rows {
  return Object.fromEntries(TABLES.map((table) => [table, new CopyTable()])) as Rows;
}

const AUTHOR = 'synthetic';

/** What the API sets itself on a row it creates (version, timestamps, author), here from the generated created_at. */
const writtenAt = (ms: number) => {
  const at = timestamp(ms);
  return { version: 1, created_at: at, updated_at: at, created_by: AUTHOR, updated_by: AUTHOR };
};

/** The generator names every actor and document by id, so a reference resolves to its own id. */
function ownId(ref: ActorRef | DocumentReference): string {
  if (!('id' in ref)) throw new Error(`a synthetic reference is by id: ${JSON.stringify(ref)}`);
  return ref.id;
}

const FIRST_DAY = Date.UTC(FIRST_YEAR, 0, 1) / DAY_MS;
const LAST_DAY = Date.UTC(LAST_YEAR, 11, 31) / DAY_MS;
export const DOCUMENT_BASE = 'https://synthetic.example';

interface Side {
  /** Set for a state's forces; unset for an armed group. */
  country?: CountryActors;
  actor: number;
  name: string;
}

interface Truth {
  measure: FigureInput['measure'];
  value: number;
  unit: string | null;
  subject: string | null;
}

interface DocumentRef {
  id: string;
  publishedAt: number;
}

/** A report of the event being made: its body, and the id and created_at the API would have given it. */
interface MadeReport {
  id: string;
  created: number;
  body: ReportInput;
}

/** Deterministic position of a place from its name, so places stay put whatever the seed. */
function hash01(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return ((h >>> 0) % 100000) / 100000;
}

interface Place {
  admin1: string;
  lat: number;
  lon: number;
}

function placesOf(c: Country): { admin1: Place[]; towns: (Place & { town: string })[] } {
  const [minLat, maxLat, minLon, maxLon] = c.box;
  const inner = (u: number, lo: number, hi: number) => lo + (0.15 + 0.7 * u) * (hi - lo);
  const admin1 = c.admin1.map((name) => ({
    admin1: name,
    lat: inner(hash01(`${name}|lat`), minLat, maxLat),
    lon: inner(hash01(`${name}|lon`), minLon, maxLon),
  }));
  const towns = c.towns.map((town, i) => {
    const a = admin1[i % admin1.length]!;
    const spread = Math.min(0.6, (maxLat - minLat) / 8);
    return {
      town,
      admin1: a.admin1,
      lat: a.lat + (hash01(`${town}|lat`) - 0.5) * spread,
      lon: a.lon + (hash01(`${town}|lon`) - 0.5) * spread,
    };
  });
  return { admin1, towns };
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export interface GeneratorOptions {
  seed: number;
  total: number;
  world: ActorWorld;
  /** Database ids of world.actors, by index. */
  actorIds: string[];
  /** First number of this run's document URLs (past the ones already in the database). */
  firstDocumentNumber: number;
  now: number;
}

export class EventGenerator {
  private readonly rng: Rng;
  private readonly dayCdf: Float64Array;
  private readonly countryByYear = new Map<number, Weighted<CountryActors>>();
  private readonly places = new Map<string, ReturnType<typeof placesOf>>();
  private readonly types = new Weighted(EVENT_TYPES);
  private readonly recentDocuments: DocumentRef[] = [];
  private readonly recentEvents: string[] = [];
  /** Documents cited by the reports of the event being generated. */
  private eventDocuments: DocumentRef[] = [];
  private documentNumber: number;
  readonly counts: Record<TableName, number> = {
    documents: 0,
    events: 0,
    reports: 0,
    report_via: 0,
    participants: 0,
    figures: 0,
    event_relations: 0,
  };
  rows: Rows = emptyRows();

  constructor(private readonly o: GeneratorOptions) {
    this.rng = new Rng(o.seed, 2);
    this.documentNumber = o.firstDocumentNumber;
    const yearWeight = new Map<number, number>();
    for (let y = FIRST_YEAR; y <= LAST_YEAR; y++) {
      const items = o.world.countries.map((ca) => [ca, ca.country.weight * (ca.country.era?.(y) ?? 1)] as const);
      this.countryByYear.set(y, new Weighted(items));
      yearWeight.set(
        y,
        items.reduce((sum, [, w]) => sum + w, 0),
      );
    }
    for (const c of COUNTRIES) this.places.set(c.iso, placesOf(c));
    // Cumulative share of events by day: busy years get more events per day.
    this.dayCdf = new Float64Array(LAST_DAY - FIRST_DAY + 1);
    let sum = 0;
    for (let d = FIRST_DAY; d <= LAST_DAY; d++) {
      sum += yearWeight.get(new Date(d * DAY_MS).getUTCFullYear())!;
      this.dayCdf[d - FIRST_DAY] = sum;
    }
    for (let i = 0; i < this.dayCdf.length; i++) this.dayCdf[i]! /= sum;
  }

  private dayAt(u: number): number {
    let lo = 0;
    let hi = this.dayCdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.dayCdf[mid]! >= u) hi = mid;
      else lo = mid + 1;
    }
    return FIRST_DAY + lo;
  }

  private actorName(index: number): string {
    return this.o.world.actors[index]!.name;
  }

  private id(index: number): string {
    return this.o.actorIds[index]!;
  }

  private forcesOf(ca: CountryActors): number {
    const r = this.rng.next();
    return r < 0.6 ? this.rng.pick(ca.units) : r < 0.92 ? this.rng.pick(ca.military) : ca.state;
  }

  private sides(ca: CountryActors): [Side, Side] {
    const r = this.rng;
    const own: Side = { country: ca, actor: this.forcesOf(ca), name: '' };
    let other: Side;
    const opponents = ca.country.opponents;
    if (opponents.length > 0 && r.chance(0.55)) {
      const oc = this.o.world.byCountry.get(r.pick(opponents))!;
      other = { country: oc, actor: this.forcesOf(oc), name: '' };
    } else if (r.chance(0.08)) {
      other = { actor: r.pick(this.o.world.unknownPerpetrators), name: '' };
    } else {
      other = { actor: r.pick(ca.groups), name: '' };
    }
    own.name = this.actorName(own.actor);
    other.name = this.actorName(other.actor);
    return r.chance(0.5) ? [own, other] : [other, own];
  }

  /** Appends one event and everything that hangs off it; `index` is its position among the run's events. */
  generate(index: number): void {
    const r = this.rng;
    const w = this.o.world;

    // When and where.
    const baseDay = this.dayAt((index + r.next()) / this.o.total);
    const year = new Date(baseDay * DAY_MS).getUTCFullYear();
    const ca = this.countryByYear.get(year)!.pick(r);
    const c = ca.country;
    const type = this.types.pick(r);

    let start = baseDay;
    let end = baseDay;
    let precision: EventInput['occurred']['precision'] = 'day';
    const p = r.next();
    if (p < 0.07) {
      precision = 'week';
      start = baseDay - ((new Date(baseDay * DAY_MS).getUTCDay() + 6) % 7);
      end = start + 6;
    } else if (p < 0.14) {
      precision = 'month';
      const d = new Date(baseDay * DAY_MS);
      start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / DAY_MS;
      end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0) / DAY_MS;
    } else if (p < 0.18) {
      precision = 'range';
      end = baseDay + r.int(1, 20);
    } else if (p < 0.19) {
      precision = 'year';
      start = Date.UTC(year, 0, 1) / DAY_MS;
      end = Date.UTC(year, 11, 31) / DAY_MS;
    }
    start = Math.max(start, FIRST_DAY);
    end = Math.min(end, LAST_DAY);
    const startMs = start * DAY_MS;

    const places = this.places.get(c.iso)!;
    const town = r.pick(places.towns);
    let locationName: string | null = town.town;
    let admin1: string | null = town.admin1;
    let admin2: string | null = null;
    let lat: number | null = null;
    let lon: number | null = null;
    let locPrecision: NonNullable<EventInput['location']>['precision'];
    const lp = r.next();
    if (lp < 0.35) {
      locPrecision = 'exact';
      lat = town.lat + (r.next() - 0.5) * 0.1;
      lon = town.lon + (r.next() - 0.5) * 0.1;
    } else if (lp < 0.6) {
      locPrecision = 'near';
      lat = town.lat + (r.next() - 0.5) * 0.4;
      lon = town.lon + (r.next() - 0.5) * 0.4;
    } else if (lp < 0.68) {
      locPrecision = 'admin2';
      admin2 = `${town.town} District`;
      lat = town.lat;
      lon = town.lon;
    } else if (lp < 0.83) {
      locPrecision = 'admin1';
      const a = r.pick(places.admin1);
      locationName = a.admin1;
      admin1 = a.admin1;
      lat = a.lat;
      lon = a.lon;
    } else if (lp < 0.9) {
      locPrecision = 'country';
      locationName = c.name;
      admin1 = null;
      if (r.chance(0.5)) {
        lat = (c.box[0] + c.box[1]) / 2;
        lon = (c.box[2] + c.box[3]) / 2;
      }
    } else if (lp < 0.92) {
      locPrecision = 'water';
      locationName = `waters off ${town.town}`;
    } else {
      locPrecision = 'unknown';
      if (r.chance(0.4)) locationName = null;
      if (r.chance(0.5)) admin1 = null;
    }
    if (lat !== null && lon !== null) {
      lat = round(Math.min(c.box[1], Math.max(c.box[0], lat)), 5);
      lon = round(Math.min(c.box[3], Math.max(c.box[2], lon)), 5);
    }
    const place = locationName ?? admin1 ?? c.name;

    // Who.
    const [a, b] = this.sides(ca);
    const participants: [number, ParticipantInput['role']][] = [];
    const civilians = r.pick(ca.civilians);
    const weapon = r.pick(WEAPONS);
    const target = r.pick(STRIKE_TARGETS);
    const ownState = a.country?.state;
    switch (type) {
      case 'battle':
        participants.push([a.actor, 'perpetrator'], [b.actor, 'target']);
        if (a.country && r.chance(0.2)) participants.push([r.pick(a.country.units), 'supporter']);
        break;
      case 'strike':
        participants.push([
          a.country ? (r.chance(0.5) ? r.pick(a.country.military) : a.actor) : a.actor,
          'perpetrator',
        ]);
        if (r.chance(0.7)) participants.push([b.actor, 'target']);
        if (r.chance(0.3)) participants.push([civilians, 'victim']);
        break;
      case 'attack':
      case 'atrocity_allegation':
        participants.push([a.actor, 'perpetrator'], [civilians, 'victim']);
        break;
      case 'friendly_fire':
        if (a.country) participants.push([a.actor, 'perpetrator'], [r.pick(a.country.units), 'target']);
        else participants.push([a.actor, 'perpetrator'], [r.pick(ca.units), 'target']);
        break;
      case 'capture':
        participants.push([a.actor, 'perpetrator'], [b.country ? r.pick(b.country.persons) : b.actor, 'subject']);
        break;
      case 'death':
        participants.push([r.chance(0.5) ? r.pick(ca.persons) : civilians, 'victim']);
        if (r.chance(0.5)) participants.push([a.actor, 'perpetrator']);
        break;
      case 'deployment':
        participants.push([a.country ? r.pick(a.country.units) : a.actor, 'subject']);
        if (ownState !== undefined && r.chance(0.6)) participants.push([ownState, 'sender']);
        if (a.country !== ca && r.chance(0.5)) participants.push([ca.state, 'recipient']);
        break;
      case 'equipment_transfer': {
        const supplier = r.pick(w.countries);
        participants.push([supplier.state, 'sender'], [a.country ? r.pick(a.country.military) : a.actor, 'recipient']);
        break;
      }
      case 'prisoner_exchange':
        participants.push(
          [a.country ? a.country.state : a.actor, 'sender'],
          [b.country ? b.country.state : b.actor, 'recipient'],
        );
        if (r.chance(0.5)) participants.push([r.pick(w.countries).state, 'other']);
        break;
      case 'casualty_claim':
        participants.push([b.actor, 'subject']);
        if (r.chance(0.5)) participants.push([a.actor, 'other']);
        break;
      case 'statement':
        participants.push([a.country ? r.pick(a.country.agencies) : a.actor, 'subject']);
        break;
      default:
        participants.push([a.actor, 'subject']);
    }

    // What: title and description from templates.
    const title = this.title(type, a, b, place, admin1 ?? c.name, weapon, target, civilians);
    let description: string | null = null;
    if (r.chance(0.92)) {
      description = `${r.pick(DESCRIPTION_OPENERS)} ${this.sentence(type, a, b, place, weapon, target)} ${r.pick(AFTERMATHS)}`;
      if (r.chance(0.2))
        description += `\n\n${r.pick(AFTERMATHS)} Reporting from ${place}${admin1 && admin1 !== place ? `, ${admin1}` : ''} is ongoing.`;
    }

    const tags: string[] = [];
    const tagCount = r.pick([0, 1, 1, 2, 2, 3]);
    const typeTags = TYPE_TAGS[type] ?? [];
    for (let t = 0; t < tagCount; t++) {
      const tag = r.chance(0.65) && typeTags.length > 0 ? r.pick(typeTags) : r.pick(TAGS);
      if (!tags.includes(tag)) tags.push(tag);
    }

    // The truth the reports bend: figures on about half the events.
    const truths = this.truths(type, a, b, civilians);

    // Reports: the first stated soonest, each later one a bit after.
    const reportCount = r.pick([1, 1, 1, 1, 2, 2, 2, 3, 3, 4]) + (r.chance(0.07) ? 1 : 0);
    const stances: ReportInput['stance'][] = [];
    const statedAts: number[] = [];
    let delay = r.next() < 0.5 ? r.int(1, 12) * HOUR_MS : r.heavy(240) * HOUR_MS + HOUR_MS;
    for (let k = 0; k < reportCount; k++) {
      statedAts.push(startMs + delay + r.int(0, 59) * 60_000);
      delay += r.heavy(120) * HOUR_MS + r.int(1, 6) * HOUR_MS;
      const s = r.next();
      stances.push(
        k === 0
          ? s < 0.93
            ? 'asserts'
            : 'unclear'
          : s < 0.7
            ? 'asserts'
            : s < 0.82
              ? 'denies'
              : s < 0.92
                ? 'disputes'
                : 'unclear',
      );
    }
    const firstStated = Math.min(statedAts[0]!, this.o.now - HOUR_MS);
    const eventCreated = Math.min(Math.max(firstStated, startMs) + r.int(10, 4320) * 60_000, this.o.now - 60_000);
    const eventId = uuidv7(eventCreated);

    // A status drawn as an analyst would set it (status_source editor), so the status filters have every value to work with.
    const s = r.next();
    const contested = stances.some((x) => x === 'denies' || x === 'disputes');
    const status: EventInput['status'] =
      contested && s < 0.5
        ? 'contested'
        : s < 0.04
          ? 'retracted'
          : s < 0.1
            ? 'discounted'
            : s < 0.22
              ? 'confirmed'
              : reportCount >= 2 && s < 0.85
                ? 'corroborated'
                : 'reported';

    // An actor takes one role in a synthetic event.
    const seen = new Set<number>();
    const roles: ParticipantInput[] = [];
    for (const [actor, role] of participants) {
      if (seen.has(actor)) continue;
      seen.add(actor);
      roles.push({ actor: { id: this.id(actor) }, role });
    }

    // An editor's estimate on about two events in three with figures; the others get theirs from
    // their reports' claims, derived by the loader as by the service (insertEvidenceFigures).
    const figures = truths.length > 0 && r.chance(2 / 3) ? truths.map((truth) => this.figure(true, truth, 1)) : [];

    this.eventDocuments = [];
    const reports: MadeReport[] = [];
    for (let k = 0; k < reportCount; k++) {
      reports.push(
        this.report(
          k,
          stances[k]!,
          statedAts[k]!,
          startMs,
          eventCreated,
          type,
          ca,
          a,
          b,
          place,
          weapon,
          target,
          truths,
        ),
      );
    }

    const relations: EventInput['relations'] = [];
    if (this.recentEvents.length > 0 && r.chance(0.003)) {
      const other = r.pick(this.recentEvents);
      // A body relates its own event to others: "the earlier one precedes this" is said as "this follows it".
      const relation = r.pick([
        'follows',
        'follows',
        'same_subject',
        'same_subject',
        'part_of',
        'contradicts',
        'duplicate_of',
        'follows',
      ] as const);
      relations.push({ event_id: other, relation });
    }

    const body: EventInput = {
      type,
      title,
      description,
      status,
      occurred: { start: day(start), end: day(end), precision },
      location: { name: locationName, admin1, admin2, country: c.iso, lat, lon, precision: locPrecision },
      participants: roles,
      figures,
      reports: reports.map((report) => report.body),
      tags,
      relations,
    };
    this.append(body, eventId, eventCreated, reports);

    if (this.recentEvents.length >= 256) this.recentEvents[r.int(0, 255)] = eventId;
    else this.recentEvents.push(eventId);
  }

  /**
   * Appends the rows of an event made as `body` to the chunk: the API's mapping of the body
   * (eventRows), with the ids, created_at and author the API would have set.
   */
  private append(body: EventInput, eventId: string, eventCreated: number, reports: MadeReport[]): void {
    const out = this.rows;
    const ids = [eventId, ...reports.map((report) => report.id)];
    const rows = eventRows([body], { next: () => ids.shift()! }, ownId, (ref) => (ref ? ownId(ref) : null));
    const stamp = writtenAt(eventCreated);
    for (const row of rows.events) out.events.push(row, stamp);
    rows.reports.forEach((row, k) => out.reports.push(row, writtenAt(reports[k]!.created)));
    for (const row of rows.via) out.report_via.push(row);
    for (const row of rows.participants) out.participants.push(row);
    for (const row of rows.figures) out.figures.push(row);
    for (const row of rows.relations)
      out.event_relations.push(row, { created_at: stamp.created_at, created_by: AUTHOR });
    this.counts.events += rows.events.length;
    this.counts.reports += rows.reports.length;
    this.counts.report_via += rows.via.length;
    this.counts.participants += rows.participants.length;
    this.counts.figures += rows.figures.length;
    this.counts.event_relations += rows.relations.length;
  }

  private title(
    type: string,
    a: Side,
    b: Side,
    place: string,
    region: string,
    weapon: string,
    target: string,
    civilians: number,
  ): string {
    const r = this.rng;
    const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
    switch (type) {
      case 'battle':
        return r.pick([
          `Clashes between ${a.name} and ${b.name} near ${place}`,
          `${a.name} repels assault near ${place}`,
          `Heavy fighting reported in ${place}, ${region}`,
          `${a.name} advances towards ${place}`,
          `Fighting with ${weapon} on the outskirts of ${place}`,
        ]);
      case 'strike':
        return r.pick([
          `${cap(weapon)} strike on ${target} in ${place}`,
          `${a.name} hits ${target} near ${place} with ${weapon}`,
          `Strike reported on ${target} in ${region}`,
          `Overnight attack with ${weapon} on ${place}`,
        ]);
      case 'attack':
        return r.pick([
          `Gunmen attack ${this.actorName(civilians)} in ${place}`,
          `${a.name} accused of attack on village near ${place}`,
          `Attack on ${target} in ${place} kills civilians`,
        ]);
      case 'casualty_claim':
        return r.pick([
          `${a.name} claims heavy losses for ${b.name} near ${place}`,
          `Casualty figures for ${region} released`,
          `Losses of ${b.name} claimed`,
        ]);
      case 'capture':
        return r.pick([
          `${a.name} captures soldiers near ${place}`,
          `Prisoners taken in ${place}`,
          `Capture of ${b.name} personnel reported in ${region}`,
        ]);
      case 'death':
        return r.pick([
          `Death in custody reported in ${place}`,
          `Prisoner dies after capture near ${place}`,
          `Killing reported in ${region}`,
        ]);
      case 'deployment':
        return r.pick([
          `${a.name} deployed to ${region}`,
          `Troops and ${weapon} moved towards ${place}`,
          `Reinforcements arrive near ${place}`,
        ]);
      case 'atrocity_allegation':
        return r.pick([
          `Allegation of executions in ${place}`,
          `Mass grave reported near ${place}`,
          `${a.name} accused of abuses in ${region}`,
        ]);
      case 'equipment_transfer':
        return r.pick([
          `Delivery of ${r.pick(EQUIPMENT_UNITS)} to ${a.name}`,
          `Shipment of ${weapon} reported via ${place}`,
          `New weapons for ${a.name}`,
        ]);
      case 'friendly_fire':
        return r.pick([`Friendly fire incident near ${place}`, `${a.name} hit by own ${weapon} near ${place}`]);
      case 'prisoner_exchange':
        return r.pick([
          `Prisoner exchange between ${a.name} and ${b.name}`,
          `Prisoners released in exchange near ${place}`,
        ]);
      case 'statement':
        return r.pick([
          `Statement on the situation in ${region}`,
          `${a.name} issues warning over ${place}`,
          `Official statement on ${place}`,
        ]);
      default:
        return r.pick([
          `Incident reported in ${place}`,
          `Unexplained explosion near ${place}`,
          `Civilians evacuated from ${place}`,
        ]);
    }
  }

  private sentence(type: string, a: Side, b: Side, place: string, weapon: string, target: string): string {
    const r = this.rng;
    switch (type) {
      case 'battle':
        return `units of the ${a.name} engaged ${b.name} near ${place}, using ${weapon}.`;
      case 'strike':
        return `${weapon} hit ${target} in ${place}${r.chance(0.5) ? ` after air-defence units of the ${b.name} failed to intercept them` : ''}.`;
      case 'attack':
        return `armed men linked to ${a.name} attacked ${target} in ${place}.`;
      case 'casualty_claim':
        return `${a.name} published figures on the losses of ${b.name} around ${place}.`;
      case 'capture':
        return `servicemen of the ${b.name} were taken prisoner near ${place}.`;
      case 'equipment_transfer':
        return `a consignment including ${weapon} was delivered to ${a.name}.`;
      case 'deployment':
        return `${a.name} moved additional forces and ${weapon} towards ${place}.`;
      default:
        return `an incident involving ${a.name} and ${b.name} took place in ${place}.`;
    }
  }

  private truths(type: string, a: Side, b: Side, civilians: number): Truth[] {
    const r = this.rng;
    const chance: Record<string, number> = {
      casualty_claim: 1,
      death: 0.9,
      prisoner_exchange: 0.9,
      capture: 0.7,
      equipment_transfer: 0.7,
      friendly_fire: 0.6,
      attack: 0.6,
      battle: 0.55,
      strike: 0.5,
      deployment: 0.5,
      atrocity_allegation: 0.5,
      other: 0.2,
      statement: 0.1,
    };
    if (!r.chance(chance[type] ?? 0)) return [];
    const enemy = this.id(b.actor);
    const people = (measure: Truth['measure'], max: number, subject: string | null): Truth => ({
      measure,
      value: r.heavy(max),
      unit: null,
      subject,
    });
    const equipment = (max: number): Truth => ({
      measure: 'equipment',
      value: 1 + r.heavy(max),
      unit: r.pick(EQUIPMENT_UNITS),
      subject: r.chance(0.6) ? enemy : null,
    });
    const civ = this.id(civilians);
    switch (type) {
      case 'battle': {
        const list = [people('killed', 300, r.chance(0.6) ? enemy : null)];
        if (r.chance(0.6)) list.push(people('wounded', 600, r.chance(0.6) ? enemy : null));
        if (r.chance(0.2)) list.push(people('captured', 60, enemy));
        if (r.chance(0.3)) list.push(equipment(40));
        return list;
      }
      case 'strike': {
        const list = [people('killed', 80, r.chance(0.5) ? civ : null)];
        if (r.chance(0.5)) list.push(people('wounded', 200, r.chance(0.5) ? civ : null));
        if (r.chance(0.25)) list.push(equipment(60));
        return list;
      }
      case 'attack':
      case 'friendly_fire':
        return r.chance(0.7)
          ? [people('killed', 60, type === 'attack' ? civ : null), people('wounded', 120, null)]
          : [people('killed', 60, null)];
      case 'atrocity_allegation':
        return r.chance(0.7) ? [people('killed', 400, civ)] : [people('missing', 200, civ)];
      case 'casualty_claim':
        return r.chance(0.5)
          ? [people('casualties', 20000, enemy)]
          : r.chance(0.5)
            ? [people('killed', 8000, enemy), people('wounded', 15000, enemy)]
            : [people('killed', 3000, enemy), equipment(500)];
      case 'capture':
        return [{ measure: 'captured', value: 1 + r.heavy(80), unit: null, subject: enemy }];
      case 'death':
        return [{ measure: 'killed', value: 1 + r.heavy(4), unit: null, subject: null }];
      case 'deployment':
        return r.chance(0.6)
          ? [{ measure: 'personnel', value: 100 * (1 + r.heavy(150)), unit: null, subject: this.id(a.actor) }]
          : [equipment(200)];
      case 'equipment_transfer':
        return [{ ...equipment(300), subject: null }];
      case 'prisoner_exchange':
        return [{ measure: 'other', value: 2 + r.heavy(300), unit: 'prisoners released', subject: null }];
      default:
        return [
          {
            measure: 'other',
            value: 1 + r.heavy(50),
            unit: r.chance(0.5) ? 'incidents' : 'buildings damaged',
            subject: null,
          },
        ];
    }
  }

  /**
   * One figure as a body gives it: a number with the qualifier of its wording, which the API
   * turns into low/best/high. `bias` scales the true value: what this reporter claims. An
   * editor's estimate (`editor`) is sometimes a bare low/best/high.
   */
  private figure(editor: boolean, truth: Truth, bias: number): FigureInput {
    const r = this.rng;
    const v = Math.max(0, Math.round(truth.value * bias));
    const unit = truth.unit ? ` ${truth.unit}` : '';
    const counted = { measure: truth.measure, unit: truth.unit, subject: truth.subject ? { id: truth.subject } : null };
    const q = r.next();
    if (editor && q < 0.3) return { ...counted, low: Math.floor(v * 0.7), best: v, high: Math.ceil(v * 1.4) + 1 };
    if (q < 0.55) return { ...counted, value: v, qualifier: 'exact', text: `${grouped(v)}${unit}` };
    if (q < 0.72) {
      const about = v >= 100 ? Math.round(v / 10) * 10 : v;
      return { ...counted, value: about, qualifier: 'approximately', text: `about ${grouped(about)}${unit}` };
    }
    if (q < 0.82) return { ...counted, value: v, qualifier: 'at_least', text: `at least ${grouped(v)}${unit}` };
    if (q < 0.88) {
      const over = v >= 100 ? Math.floor(v / 100) * 100 : v;
      return { ...counted, value: over, qualifier: 'more_than', text: `more than ${grouped(over)}${unit}` };
    }
    if (q < 0.91) return { ...counted, value: v, qualifier: 'at_most', text: `up to ${grouped(v)}${unit}` };
    if (q < 0.93)
      return { ...counted, value: v + 1, qualifier: 'fewer_than', text: `fewer than ${grouped(v + 1)}${unit}` };
    const low = Math.floor(v * 0.8);
    const high = Math.ceil(v * 1.25) + 1;
    return {
      ...counted,
      low,
      best: r.chance(0.3) ? v : null,
      high,
      qualifier: 'range',
      text: `between ${grouped(low)} and ${grouped(high)}${unit}`,
    };
  }

  /** The k-th report of the event being made, with the document it cites made if new. */
  private report(
    k: number,
    stance: ReportInput['stance'],
    stated: number,
    startMs: number,
    eventCreated: number,
    type: string,
    ca: CountryActors,
    a: Side,
    b: Side,
    place: string,
    weapon: string,
    target: string,
    truths: Truth[],
  ): MadeReport {
    const r = this.rng;
    const w = this.o.world;
    const now = this.o.now;

    // Who says so: a side, a third country, an independent outlet or monitor, or someone unnamed.
    let reporter: number;
    let role: ReportInput['reporter_role'];
    let side: Side | null = null;
    const rr = r.next();
    if (rr < 0.4 || stance === 'denies') {
      role = 'party';
      side = stance === 'denies' || r.chance(0.3) ? b : a;
      const sc = side.country;
      reporter = sc
        ? r.chance(0.5)
          ? r.pick(sc.defence)
          : r.chance(0.5)
            ? r.pick(sc.persons)
            : r.pick(sc.agencies)
        : side.actor;
    } else if (rr < 0.55) {
      role = 'third_party';
      const tc = r.pick(w.countries);
      reporter = r.chance(0.6) ? r.pick(tc.agencies) : tc.state;
    } else if (rr < 0.9) {
      role = 'independent';
      reporter = r.chance(0.35)
        ? r.pick(w.internationalMedia)
        : r.chance(0.5)
          ? r.pick(ca.media)
          : r.pick(w.internationalAgencies);
    } else {
      role = 'unknown';
      reporter = r.chance(0.6) ? r.pick(w.unnamed) : r.pick(ca.groups);
    }
    const reporterKind = w.actors[reporter]!.kind;

    // Where it was read: a document already published that covers several events, or a new one.
    // A reused document must be out before this report is recorded; a new one is published
    // between the statement and the report's entry.
    const wantsDocument = r.chance(0.9);
    let document: DocumentRef | null = null;
    if (wantsDocument && k > 0 && this.eventDocuments.length > 0 && r.chance(0.6)) {
      // One article often carries several claims about the same event.
      document = r.pick(this.eventDocuments);
      stated = Math.max(startMs + HOUR_MS, document.publishedAt - r.int(0, 360) * 60_000);
    } else if (wantsDocument && this.recentDocuments.length > 0 && r.chance(0.8)) {
      for (let attempt = 0; attempt < 4 && document === null; attempt++) {
        const candidate = r.pick(this.recentDocuments);
        if (candidate.publishedAt >= startMs + 2 * HOUR_MS && candidate.publishedAt <= (k === 0 ? eventCreated : now)) {
          document = candidate;
          stated = Math.max(startMs + HOUR_MS, candidate.publishedAt - r.int(0, 360) * 60_000);
        }
      }
    }
    stated = Math.min(stated, now - 2 * HOUR_MS);
    const created = k === 0 ? eventCreated : Math.min(Math.max(eventCreated, stated) + r.int(5, 2880) * 60_000, now);
    if (wantsDocument && document === null) {
      const publisher =
        reporterKind === 'media' || ((reporterKind === 'agency' || reporterKind === 'state') && r.chance(0.4))
          ? reporter
          : r.chance(0.6)
            ? r.pick(w.internationalMedia)
            : r.pick(ca.media);
      const publishedAt = Math.max(stated, Math.min(stated + r.int(0, 480) * 60_000, created));
      document = this.document(publisher, publishedAt, created, ca.country, place, type);
    }
    if (document !== null && !this.eventDocuments.includes(document)) this.eventDocuments.push(document);

    let statedAt: string | null = null;
    if (document !== null || r.chance(0.9))
      statedAt = r.chance(0.3) ? day(Math.floor(stated / DAY_MS)) : timestamp(stated);

    const quote = r.chance(0.85) ? this.quote(stance, type, a, b, place, weapon, target, truths) : null;
    const reliability =
      reporterKind === 'group' || reporterKind === 'other'
        ? r.pick(['E', 'F', 'F', 'D'] as const)
        : r.pick(['A', 'B', 'B', 'C', 'C', 'C', 'D', 'F'] as const);
    const credibility = stance === 'asserts' ? r.pick([1, 2, 2, 3, 3, 3, 4, 6]) : r.pick([3, 4, 4, 5, 6]);

    const via: ActorRef[] = [];
    if (r.chance(0.3)) {
      const chain = [r.chance(0.6) ? r.pick(w.unnamed) : r.chance(0.5) ? r.pick(ca.media) : r.pick(ca.agencies)];
      if (r.chance(0.35)) chain.push(r.chance(0.5) ? r.pick(w.unnamed) : r.pick(w.internationalMedia));
      let previous = reporter;
      for (const actor of chain) {
        if (actor === reporter || actor === previous) continue;
        via.push({ id: this.id(actor) });
        previous = actor;
      }
    }

    // What this reporter claims: a side inflates the other's losses and plays down its own.
    const figures: FigureInput[] = [];
    if (truths.length > 0 && stance !== 'unclear' && r.chance(0.4)) {
      for (const truth of truths) {
        if (figures.length > 0 && r.chance(0.5)) break;
        let bias = 0.8 + r.next() * 0.4;
        if (stance === 'denies') bias = r.chance(0.5) ? 0 : 0.1 + r.next() * 0.3;
        else if (side === a) bias = 1 + r.next() * (stance === 'disputes' ? 0.5 : 2);
        else if (side === b) bias = 0.2 + r.next() * 0.8;
        figures.push(this.figure(false, truth, bias));
      }
    }
    return {
      id: uuidv7(created),
      created,
      body: {
        reporter: { id: this.id(reporter) },
        reporter_role: role,
        via,
        document: document && { id: document.id },
        stated_at: statedAt,
        stance,
        quote,
        reliability,
        credibility,
        figures,
      },
    };
  }

  private quote(
    stance: string,
    type: string,
    a: Side,
    b: Side,
    place: string,
    weapon: string,
    target: string,
    truths: Truth[],
  ): string {
    const r = this.rng;
    const figure = truths[0] ? ` ${grouped(truths[0].value)} ${truths[0].unit ?? truths[0].measure}` : '';
    switch (stance) {
      case 'denies':
        return r.pick([
          `We categorically deny any involvement in the events in ${place}.`,
          `Reports of losses near ${place} are false and part of an information campaign.`,
          `The ${a.name} did not carry out any strikes on ${target} in ${place}.`,
          `No such incident took place. The claims about ${place} are fabricated.`,
        ]);
      case 'disputes':
        return r.pick([
          `The figures published about ${place} are greatly exaggerated.`,
          `The true number is much lower than${figure || ' claimed'}, and the ${b.name} know it.`,
          `It was not ${weapon}, and the target was not ${target}.`,
        ]);
      case 'unclear':
        return r.pick([
          `We are aware of reports from ${place} and are checking them.`,
          `The situation around ${place} remains unclear.`,
        ]);
      default:
        break;
    }
    switch (type) {
      case 'strike':
        return r.pick([
          `Units of the ${a.name} struck ${target} near ${place} with ${weapon}.`,
          `Explosions were heard in ${place} overnight\u2014residents said ${weapon} hit ${target}.`,
          `\u201cThe strike hit ${target},\u201d a witness in ${place} said.${figure ? ` Officials counted${figure}.` : ''}`,
        ]);
      case 'battle':
        return r.pick([
          `Our units repelled ${r.int(2, 9)} assaults near ${place}.${figure ? ` The enemy lost up to${figure}.` : ''}`,
          `Fierce fighting continues on the approaches to ${place}; the ${b.name} used ${weapon}.`,
          `The ${a.name} took control of positions near ${place}.\nClearing operations continue.`,
        ]);
      case 'capture':
        return `Servicemen of the ${b.name} laid down their arms near ${place} and were taken prisoner.`;
      case 'casualty_claim':
        return `Total losses of the ${b.name} in the ${place} direction amounted to${figure || ' hundreds of personnel'}.`;
      case 'equipment_transfer':
        return `The package includes ${weapon} and ${r.pick(EQUIPMENT_UNITS)}.`;
      default:
        return r.pick([
          `According to our information, ${a.name} was responsible for the events in ${place}.`,
          `Residents of ${place} reported ${weapon} and damage to ${target}.`,
          `The incident in ${place} is being investigated.\tDetails will follow.`,
        ]);
    }
  }

  private document(
    publisher: number,
    publishedAt: number,
    created: number,
    c: Country,
    place: string,
    type: string,
  ): DocumentRef {
    const r = this.rng;
    const n = this.documentNumber++;
    const spec = this.o.world.actors[publisher]!;
    const slug = spec.normalized.replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    const id = uuidv7(created);
    const title = r.pick([
      `${place}: latest on the ${type.replace(/_/g, ' ')}`,
      `Live updates: situation in ${c.name}`,
      `Report on events near ${place}`,
      `${c.name} conflict: what we know about ${place}`,
      `Statement on ${place}`,
    ]);
    const language = spec.country === null ? 'en' : r.chance(0.6) ? c.language : 'en';
    const archive = r.chance(0.3) ? `https://archive.synthetic.example/${n}` : null;
    const hash = r.chance(0.5) ? r.hex(64) : null;
    this.rows.documents.push(
      {
        id,
        url: `${DOCUMENT_BASE}/${slug}/${n}`,
        title,
        publisher: spec.name,
        published_at: timestamp(publishedAt),
        language,
        archive_url: archive,
        content_hash: hash,
      },
      writtenAt(created),
    );
    this.counts.documents++;
    const ref = { id, publishedAt };
    if (this.recentDocuments.length >= 32) this.recentDocuments[r.int(0, 31)] = ref;
    else this.recentDocuments.push(ref);
    return ref;
  }
}
