// The event generator: one event at a time, with its reports, documents, figures,
// participants, via links and now and then a relation, appended as COPY text rows
// to the buffers of the current chunk. Events come out in occurred order (the
// i-th of N sits at quantile i/N of the yearly intensity), so a document can be
// shared by the reports of nearby events and ids grow with created_at.
import { uuidv7 } from '../../src/db/uuid.js';
import type { ActorWorld, CountryActors } from './actors.js';
import { CopyBuffer, DAY_MS, HOUR_MS, day, grouped, num, text, textArray, timestamp } from './copy-text.js';
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

export const COLUMNS: Record<TableName, string> = {
  documents:
    'id, url, title, publisher, published_at, language, archive_url, content_hash, version, created_at, updated_at, created_by, updated_by',
  events:
    'id, type, title, description, status, status_source, occurred_start, occurred_end, occurred_precision, location_name, admin1, admin2, country, lat, lon, location_precision, tags, version, created_at, updated_at, created_by, updated_by',
  reports:
    'id, event_id, reporter_id, reporter_role, document_id, stated_at, stated_at_precision, stance, quote, reliability, credibility, version, created_at, updated_at, created_by, updated_by',
  report_via: 'report_id, position, actor_id',
  participants: 'event_id, actor_id, role, position',
  figures: 'id, event_id, report_id, position, measure, low, best, high, qualifier, text, unit, subject_id',
  event_relations: 'event_id, related_event_id, relation, created_at, created_by',
};

/** A chunk's rows, table by table. */
export type Rows = Record<TableName, CopyBuffer>;

export function emptyRows(): Rows {
  return Object.fromEntries(TABLES.map((table) => [table, new CopyBuffer()])) as Rows;
}

const AUTHOR = 'synthetic';
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
  measure: string;
  value: number;
  unit: string | null;
  subject: string | null;
}

interface DocumentRef {
  id: string;
  publishedAt: number;
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
    const out = this.rows;

    // When and where.
    const baseDay = this.dayAt((index + r.next()) / this.o.total);
    const year = new Date(baseDay * DAY_MS).getUTCFullYear();
    const ca = this.countryByYear.get(year)!.pick(r);
    const c = ca.country;
    const type = this.types.pick(r);

    let start = baseDay;
    let end = baseDay;
    let precision = 'day';
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
    let locPrecision: string;
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
    const participants: [number, string][] = [];
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
    const stances: string[] = [];
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
    const status =
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

    const createdText = timestamp(eventCreated);
    out.events.push(
      `${eventId}\t${type}\t${text(title)}\t${text(description)}\t${status}\teditor\t${day(start)}\t${day(end)}\t${precision}\t${text(locationName)}\t${text(admin1)}\t${text(admin2)}\t${c.iso}\t${num(lat)}\t${num(lon)}\t${locPrecision}\t${textArray(tags)}\t1\t${createdText}\t${createdText}\t${AUTHOR}\t${AUTHOR}\n`,
    );
    this.counts.events++;

    const seen = new Set<string>();
    let position = 0;
    for (const [actor, role] of participants) {
      const actorId = this.id(actor);
      if (seen.has(actorId)) continue;
      seen.add(actorId);
      out.participants.push(`${eventId}\t${actorId}\t${role}\t${position++}\n`);
      this.counts.participants++;
    }

    // An editor's estimate on about two events in three with figures; the others get theirs from
    // their reports' claims, derived by the loader as by the service (insertEvidenceFigures).
    let figurePosition = 0;
    if (truths.length > 0 && r.chance(2 / 3))
      for (const truth of truths) this.figure(eventId, null, figurePosition++, truth, eventCreated, 1);

    this.eventDocuments = [];
    for (let k = 0; k < reportCount; k++) {
      this.report(
        eventId,
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
      );
    }

    if (this.recentEvents.length > 0 && r.chance(0.003)) {
      const other = r.pick(this.recentEvents);
      const relation = r.pick([
        'follows',
        'follows',
        'same_subject',
        'same_subject',
        'part_of',
        'contradicts',
        'duplicate_of',
        'precedes',
      ]);
      // "precedes" reads from the earlier event, so the pair is turned round.
      const [from, to] = relation === 'precedes' ? [other, eventId] : [eventId, other];
      out.event_relations.push(`${from}\t${to}\t${relation}\t${createdText}\t${AUTHOR}\n`);
      this.counts.event_relations++;
    }
    if (this.recentEvents.length >= 256) this.recentEvents[r.int(0, 255)] = eventId;
    else this.recentEvents.push(eventId);
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
    const people = (measure: string, max: number, subject: string | null): Truth => ({
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

  /** One figure row. `bias` scales the true value: what this reporter claims. */
  private figure(
    eventId: string | null,
    reportId: string | null,
    position: number,
    truth: Truth,
    createdAt: number,
    bias: number,
  ): void {
    const r = this.rng;
    const v = Math.max(0, Math.round(truth.value * bias));
    const unit = truth.unit ? ` ${truth.unit}` : '';
    const q = r.next();
    let low: number | null = null;
    let best: number | null = null;
    let high: number | null = null;
    let qualifier: string | null;
    let wording: string | null;
    // The stored bounds follow the API's normalisation of a qualified value.
    if (eventId !== null && q < 0.3) {
      qualifier = null;
      low = Math.floor(v * 0.7);
      best = v;
      high = Math.ceil(v * 1.4) + 1;
      wording = null;
    } else if (q < 0.55) {
      qualifier = 'exact';
      low = best = high = v;
      wording = `${grouped(v)}${unit}`;
    } else if (q < 0.72) {
      qualifier = 'approximately';
      best = v >= 100 ? Math.round(v / 10) * 10 : v;
      wording = `about ${grouped(best)}${unit}`;
    } else if (q < 0.82) {
      qualifier = 'at_least';
      low = v;
      wording = `at least ${grouped(v)}${unit}`;
    } else if (q < 0.88) {
      qualifier = 'more_than';
      low = v >= 100 ? Math.floor(v / 100) * 100 : v;
      wording = `more than ${grouped(low)}${unit}`;
    } else if (q < 0.91) {
      qualifier = 'at_most';
      high = v;
      wording = `up to ${grouped(v)}${unit}`;
    } else if (q < 0.93) {
      qualifier = 'fewer_than';
      high = v + 1;
      wording = `fewer than ${grouped(high)}${unit}`;
    } else {
      qualifier = 'range';
      low = Math.floor(v * 0.8);
      high = Math.ceil(v * 1.25) + 1;
      if (r.chance(0.3)) best = v;
      wording = `between ${grouped(low)} and ${grouped(high)}${unit}`;
    }
    this.rows.figures.push(
      `${uuidv7(createdAt)}\t${eventId ?? '\\N'}\t${reportId ?? '\\N'}\t${position}\t${truth.measure}\t${num(low)}\t${num(best)}\t${num(high)}\t${qualifier ?? '\\N'}\t${text(wording)}\t${text(truth.unit)}\t${truth.subject ?? '\\N'}\n`,
    );
    this.counts.figures++;
  }

  private report(
    eventId: string,
    k: number,
    stance: string,
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
  ): void {
    const r = this.rng;
    const w = this.o.world;
    const now = this.o.now;

    // Who says so: a side, a third country, an independent outlet or monitor, or someone unnamed.
    let reporter: number;
    let role: string;
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

    let statedText = '\\N';
    let statedPrecision = '\\N';
    if (document !== null || r.chance(0.9)) {
      if (r.chance(0.3)) {
        statedPrecision = 'date';
        statedText = timestamp(Math.floor(stated / DAY_MS) * DAY_MS);
      } else {
        statedPrecision = 'date_time';
        statedText = timestamp(stated);
      }
    }
    const reportId = uuidv7(created);
    const createdText = timestamp(created);

    const quote = r.chance(0.85) ? this.quote(stance, type, a, b, place, weapon, target, truths) : null;
    const reliability =
      reporterKind === 'group' || reporterKind === 'other'
        ? r.pick(['E', 'F', 'F', 'D'])
        : r.pick(['A', 'B', 'B', 'C', 'C', 'C', 'D', 'F']);
    const credibility = stance === 'asserts' ? r.pick([1, 2, 2, 3, 3, 3, 4, 6]) : r.pick([3, 4, 4, 5, 6]);
    this.rows.reports.push(
      `${reportId}\t${eventId}\t${this.id(reporter)}\t${role}\t${document?.id ?? '\\N'}\t${statedText}\t${statedPrecision}\t${stance}\t${text(quote)}\t${reliability}\t${credibility}\t1\t${createdText}\t${createdText}\t${AUTHOR}\t${AUTHOR}\n`,
    );
    this.counts.reports++;

    if (r.chance(0.3)) {
      const chain = [r.chance(0.6) ? r.pick(w.unnamed) : r.chance(0.5) ? r.pick(ca.media) : r.pick(ca.agencies)];
      if (r.chance(0.35)) chain.push(r.chance(0.5) ? r.pick(w.unnamed) : r.pick(w.internationalMedia));
      let position = 0;
      let previous = reporter;
      for (const actor of chain) {
        if (actor === reporter || actor === previous) continue;
        this.rows.report_via.push(`${reportId}\t${position++}\t${this.id(actor)}\n`);
        this.counts.report_via++;
        previous = actor;
      }
    }

    // What this reporter claims: a side inflates the other's losses and plays down its own.
    if (truths.length > 0 && stance !== 'unclear' && r.chance(0.4)) {
      let position = 0;
      for (const truth of truths) {
        if (position > 0 && r.chance(0.5)) break;
        let bias = 0.8 + r.next() * 0.4;
        if (stance === 'denies') bias = r.chance(0.5) ? 0 : 0.1 + r.next() * 0.3;
        else if (side === a) bias = 1 + r.next() * (stance === 'disputes' ? 0.5 : 2);
        else if (side === b) bias = 0.2 + r.next() * 0.8;
        this.figure(null, reportId, position++, truth, created, bias);
      }
    }
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
    const createdText = timestamp(created);
    this.rows.documents.push(
      `${id}\t${DOCUMENT_BASE}/${slug}/${n}\t${text(title)}\t${text(spec.name)}\t${timestamp(publishedAt)}\t${language}\t${text(archive)}\t${hash ?? '\\N'}\t1\t${createdText}\t${createdText}\t${AUTHOR}\t${AUTHOR}\n`,
    );
    this.counts.documents++;
    const ref = { id, publishedAt };
    if (this.recentDocuments.length >= 32) this.recentDocuments[r.int(0, 31)] = ref;
    else this.recentDocuments.push(ref);
    return ref;
  }
}
