// node --import tsx bench/import-ndjson.ts --events N [--seed S] [--no-external-ids] > events.ndjson
//
// Writes N events as NDJSON, each line a body POST /v1/events accepts, for measuring
// `npm run import`. The content comes from the synthetic world of scripts/synthetic (its
// countries, places, actors and vocabulary): about two reports an event, most with a
// document shared by nearby events, some citing a source, figures on about half, and
// each event an external id ("synthetic": "S<seed>-<n>") unless --no-external-ids.
import { parseArgs } from 'node:util';
import { buildActors, type ActorSpec, type CountryActors } from '../scripts/synthetic/actors.js';
import { Rng, Weighted } from '../scripts/synthetic/random.js';
import {
  AFTERMATHS,
  DESCRIPTION_OPENERS,
  EVENT_TYPES,
  FIRST_YEAR,
  LAST_YEAR,
  TAGS,
  TYPE_TAGS,
  WEAPONS,
} from '../scripts/synthetic/world.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string' },
    seed: { type: 'string', default: '1' },
    'no-external-ids': { type: 'boolean', default: false },
  },
});
const total = Number(values.events);
const seed = Number(values.seed);
if (!Number.isInteger(total) || total < 1 || !Number.isInteger(seed)) {
  process.stderr.write(
    'usage: node --import tsx bench/import-ndjson.ts --events N [--seed S] [--no-external-ids] > events.ndjson\n',
  );
  process.exit(2);
}

const rng = new Rng(seed, 7);
const world = buildActors(seed);
const countries = new Weighted(world.countries.map((ca) => [ca, ca.country.weight] as const));
const types = new Weighted(EVENT_TYPES);
const DAY_MS = 86_400_000;
const firstDay = Date.UTC(FIRST_YEAR, 0, 1) / DAY_MS;
const days = Date.UTC(LAST_YEAR, 11, 31) / DAY_MS - firstDay;
const STANCES = ['asserts', 'asserts', 'asserts', 'asserts', 'denies', 'disputes', 'unclear'];
const ROLES = ['party', 'party', 'third_party', 'independent', 'unknown'];

const ref = (actor: ActorSpec) =>
  actor.country
    ? { name: actor.name, kind: actor.kind, country: actor.country }
    : { name: actor.name, kind: actor.kind };
const actor = (index: number) => ref(world.actors[index]!);
const day = (n: number) => new Date(n * DAY_MS).toISOString().slice(0, 10);

/** Documents are shared by the reports of nearby events, as in a news cycle. */
const recent: { url: string; publisher: string }[] = [];
let documentNumber = 0;

function document(ca: CountryActors) {
  if (recent.length > 0 && rng.chance(0.3)) return { url: rng.pick(recent).url };
  const publisher = world.actors[rng.pick([...ca.media, ...world.internationalMedia])]!.name;
  const doc = { url: `https://synthetic.example/import/${seed}/${++documentNumber}`, publisher };
  if (recent.length >= 64) recent[rng.int(0, 63)] = doc;
  else recent.push(doc);
  return { ...doc, title: `Report ${documentNumber}`, language: ca.country.language };
}

function figure(measure: string) {
  const value = rng.heavy(400) + 1;
  return rng.chance(0.5)
    ? { measure, value, qualifier: rng.pick(['exact', 'approximately', 'at_least', 'more_than']), text: `${value}` }
    : { measure, low: value, high: value + rng.int(0, 20) };
}

const out: string[] = [];
for (let n = 1; n <= total; n++) {
  const ca = countries.pick(rng);
  const c = ca.country;
  const type = types.pick(rng);
  const start = firstDay + Math.floor(((n - 1 + rng.next()) / total) * days);
  const town = rng.pick(c.towns);
  const admin1 = rng.pick(c.admin1);
  const [minLat, maxLat, minLon, maxLon] = c.box;
  const exact = rng.chance(0.6);
  const perpetrator = rng.pick([...ca.units, ...ca.military, ...ca.groups]);
  const participants = [{ actor: actor(perpetrator), role: 'perpetrator' }];
  if (rng.chance(0.7))
    participants.push({ actor: actor(rng.pick([...ca.civilians, ...ca.groups, ...ca.units])), role: 'target' });
  const truth = rng.chance(0.5) ? rng.pick(['killed', 'wounded', 'captured']) : null;
  const reports = [];
  for (let k = rng.pick([1, 1, 2, 2, 2, 3, 4]); k > 0; k--) {
    const reporter = rng.pick([
      ...ca.defence,
      ...ca.media,
      ...world.internationalMedia,
      ...world.internationalAgencies,
    ]);
    reports.push({
      reporter: actor(reporter),
      reporter_role: rng.pick(ROLES),
      ...(rng.chance(0.3) ? { via: [actor(rng.pick(world.unnamed))] } : {}),
      ...(rng.chance(0.85) ? { document: document(ca) } : {}),
      stated_at: `${day(start + rng.int(0, 3))}T${String(rng.int(0, 23)).padStart(2, '0')}:${String(rng.int(0, 59)).padStart(2, '0')}:00Z`,
      stance: rng.pick(STANCES),
      ...(rng.chance(0.5) ? { quote: `${rng.pick(DESCRIPTION_OPENERS)} ${rng.pick(AFTERMATHS)}` } : {}),
      reliability: rng.pick(['A', 'B', 'C', 'C', 'D', 'F']),
      credibility: rng.int(1, 6),
      ...(truth && rng.chance(0.6) ? { figures: [figure(truth)] } : {}),
    });
  }
  const tags = [...new Set(Array.from({ length: rng.int(0, 2) }, () => rng.pick(TYPE_TAGS[type] ?? TAGS)))];
  const event = {
    type,
    title: `${type.replace(/_/g, ' ')} near ${town}, ${admin1}`,
    ...(rng.chance(0.9)
      ? { description: `${rng.pick(DESCRIPTION_OPENERS)} Fighting with ${rng.pick(WEAPONS)} near ${town}.` }
      : {}),
    occurred: rng.chance(0.9)
      ? { start: day(start) }
      : { start: day(start), end: day(start + rng.int(1, 20)), precision: 'range' },
    location: {
      name: town,
      admin1,
      country: c.iso,
      ...(exact
        ? {
            lat: +(minLat + rng.next() * (maxLat - minLat)).toFixed(5),
            lon: +(minLon + rng.next() * (maxLon - minLon)).toFixed(5),
          }
        : {}),
      precision: exact ? 'near' : 'admin1',
    },
    participants,
    ...(truth ? { figures: [figure(truth)] } : {}),
    reports,
    tags,
    ...(values['no-external-ids'] ? {} : { external_ids: { synthetic: `S${seed}-${n}` } }),
  };
  out.push(JSON.stringify(event));
  if (out.length === 1000 || n === total) {
    if (!process.stdout.write(`${out.join('\n')}\n`))
      await new Promise((resolve) => process.stdout.once('drain', resolve));
    out.length = 0;
  }
}
