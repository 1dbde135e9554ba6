// The actor set: states, armed forces and units, agencies, persons, media and
// groups for every country, plus international monitors, outlets and unnamed
// sources. Names depend only on the seed, so a second run with the same seed
// finds the same (kind, normalized_name) keys and reuses those rows.
import { normaliseName } from '../../src/modules/actors/repository.js';
import { Rng } from './random.js';
import {
  COUNTRIES,
  FIRST_NAMES,
  INTERNATIONAL_AGENCIES,
  INTERNATIONAL_MEDIA,
  LAST_NAMES,
  UNIT_TYPES,
  UNNAMED_SOURCES,
  type Country,
} from './world.js';

export type ActorKind = 'state' | 'military' | 'unit' | 'agency' | 'person' | 'media' | 'group' | 'other';

export interface ActorSpec {
  kind: ActorKind;
  name: string;
  normalized: string;
  country: string | null;
  aliases: string[];
}

/** Indexes into the actor list, by role in the synthetic world. */
export interface CountryActors {
  country: Country;
  state: number;
  military: number[];
  units: number[];
  agencies: number[];
  /** Ministry of defence and general staff: the usual official reporters. */
  defence: number[];
  persons: number[];
  groups: number[];
  civilians: number[];
  media: number[];
}

export interface ActorWorld {
  actors: ActorSpec[];
  byCountry: Map<string, CountryActors>;
  countries: CountryActors[];
  unnamed: number[];
  internationalMedia: number[];
  internationalAgencies: number[];
  unknownPerpetrators: number[];
}

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}

export function buildActors(seed: number): ActorWorld {
  const rng = new Rng(seed, 1);
  const actors: ActorSpec[] = [];
  const keys = new Map<string, number>();

  // Returns the index of the actor, or of the existing one with the same key (the unique constraint).
  const add = (kind: ActorKind, name: string, country: string | null, aliases: string[] = []): number => {
    const normalized = normaliseName(name);
    const key = `${kind}\u0000${normalized}`;
    const existing = keys.get(key);
    if (existing !== undefined) return existing;
    actors.push({ kind, name, normalized, country, aliases });
    keys.set(key, actors.length - 1);
    return actors.length - 1;
  };

  const countries: CountryActors[] = [];
  for (const c of COUNTRIES) {
    const state = add('state', c.name, c.iso, c.aliases);
    const military = [
      add('military', `Armed Forces of ${c.name}`, c.iso, [`${c.demonym} Armed Forces`]),
      add('military', `${c.demonym} Army`, c.iso),
      add('military', `${c.demonym} Air Force`, c.iso),
      add('military', `${c.demonym} National Guard`, c.iso),
    ];
    if (rng.chance(0.6)) military.push(add('military', `${c.demonym} Navy`, c.iso));

    const units = new Set<number>();
    while (units.size < 40) {
      const type = rng.pick(UNIT_TYPES);
      const n = rng.int(1, 250);
      const aliases = rng.chance(0.3) ? [`Military Unit ${rng.int(10000, 99999)}`] : [];
      if (rng.chance(0.3))
        aliases.push(
          `${ordinal(n)} ${type
            .split(' ')
            .map((w) => w[0])
            .join('')}`,
        );
      units.add(add('unit', `${c.demonym} ${ordinal(n)} ${type}`, c.iso, aliases));
    }

    const defence = [
      add('agency', `Ministry of Defence of ${c.name}`, c.iso, [`${c.demonym} Defence Ministry`]),
      add('agency', `General Staff of the Armed Forces of ${c.name}`, c.iso),
    ];
    const agencies = [
      ...defence,
      add('agency', `Ministry of Foreign Affairs of ${c.name}`, c.iso),
      add('agency', `State Security Service of ${c.name}`, c.iso),
      add('agency', `Ministry of Interior of ${c.name}`, c.iso),
      add('agency', `Office of the President of ${c.name}`, c.iso),
    ];

    const persons = new Set<number>();
    while (persons.size < 35) {
      const first = rng.pick(FIRST_NAMES);
      const last = rng.pick(LAST_NAMES);
      const middle = rng.chance(0.3) ? ` ${String.fromCharCode(65 + rng.int(0, 25))}.` : '';
      const aliases = rng.chance(0.4) ? [`${first[0]}. ${last}`] : [];
      persons.add(add('person', `${first}${middle} ${last}`, c.iso, aliases));
    }

    const region = rng.pick(c.admin1).replace(/ (Oblast|Region|Province|Governorate|State|District|County)$/, '');
    const groups = [
      add('group', `${region} Defence Forces`, c.iso),
      add('group', `${c.demonym} People's Liberation Front`, c.iso),
      add('group', `${c.demonym} Resistance Council`, c.iso),
      add('group', `Army of ${rng.pick(c.towns)}`, c.iso),
    ];
    const civilians = [
      add('group', `${c.demonym} civilians`, c.iso),
      add('group', `residents of ${rng.pick(c.towns)}`, c.iso),
    ];
    const media = [
      add('media', `${c.name} Today`, c.iso),
      add('media', `${c.towns[0]!} Daily News`, c.iso),
      add('media', `${c.demonym} National Television`, c.iso),
    ];
    countries.push({
      country: c,
      state,
      military,
      units: [...units],
      agencies,
      defence,
      persons: [...persons],
      groups,
      civilians,
      media,
    });
  }

  return {
    actors,
    byCountry: new Map(countries.map((ca) => [ca.country.iso, ca])),
    countries,
    unnamed: UNNAMED_SOURCES.map((name) => add('group', name, null)),
    internationalMedia: INTERNATIONAL_MEDIA.map((name) => add('media', name, null)),
    internationalAgencies: INTERNATIONAL_AGENCIES.map((name) => add('agency', name, null)),
    unknownPerpetrators: ['unidentified gunmen', 'unknown aircraft', 'unidentified drone operators'].map((name) =>
      add('other', name, null),
    ),
  };
}
