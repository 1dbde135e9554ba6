// The data a fuzz file starts from, and what the fuzz learns from responses: ids of
// what exists (and of what was deleted), names, tags, cursors.
import { actorBody, documentBody, eventBody, reportBody } from '../helpers/fixtures.js';
import type { Contract, Operation } from './contract.js';
import type { FuzzRequest, FuzzResponse, Harness } from './harness.js';
import { forget, remember, resourceOf, type Resource, type World } from './generators.js';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Learns ids, names, tags and cursors from a JSON body (any depth), and deletions from statuses. */
export function absorb(world: World, operation: Operation | undefined, path: string, response: FuzzResponse): void {
  const resource = operation ? resourceOf(operation.path) : undefined;
  const id = /^\/v1\/[a-z-]+\/([0-9a-f-]{36})(\/|$)/.exec(path)?.[1];
  if (response.status === 410 && resource && id && operation?.method === 'get') moveToGone(world, resource, id);
  if (response.status === 204 && id && resource && operation?.operationId.startsWith('delete'))
    moveToGone(world, resource, id);
  if (operation?.operationId === 'deleteEventRelation' && response.status === 200)
    forget(world.relations, path.replace('/v1/events/', ''));
  if (operation?.operationId === 'mergeEvent' && response.status === 200 && id) moveToGone(world, 'events', id);
  if (operation?.operationId === 'mergeActor' && response.status === 200 && id) moveToGone(world, 'actors', id);
  if (response.status < 200 || response.status >= 300 || !/json/.test(String(response.headers['content-type']))) return;
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch {
    return;
  }
  if (isObject(body) && typeof body.next_cursor === 'string' && operation) {
    remember((world.cursors[operation.operationId] ??= []), body.next_cursor, 50);
  }
  walk(world, body, 0);
}

function walk(world: World, value: unknown, depth: number): void {
  if (depth > 8) return;
  if (Array.isArray(value)) {
    for (const item of value.slice(0, 100)) walk(world, item, depth + 1);
    return;
  }
  if (!isObject(value)) return;
  const id = typeof value.id === 'string' ? value.id : undefined;
  if (id) {
    const deleted = typeof value.deleted_at === 'string';
    if ('occurred' in value && 'reports' in value) {
      if (deleted) moveToGone(world, 'events', id);
      else remember(world.live.events, id);
      for (const tag of (value.tags as string[] | undefined) ?? []) remember(world.tags, tag, 60);
      for (const relation of (value.relations as { relation: string; event_id: string }[] | undefined) ?? []) {
        remember(world.relations, `${id}/relations/${relation.relation}/${relation.event_id}`, 100);
      }
      const admin1 = (value.location as Json | undefined)?.admin1;
      if (typeof admin1 === 'string') remember(world.admin1, admin1, 60);
    } else if ('event_id' in value && 'reporter' in value) {
      remember(world.live.reports, id);
    } else if ('url' in value) {
      remember(world.live.documents, id);
      if (typeof value.url === 'string') remember(world.urls, value.url, 100);
    } else if ('kind' in value && 'name' in value) {
      remember(world.live.actors, id);
      if (typeof value.name === 'string' && typeof value.kind === 'string')
        remember(world.actorNames, { name: value.name, kind: value.kind }, 100);
    }
  }
  // Keys the fuzz made (never the test app's own, whose revocation would lock the fuzz out).
  if ('role' in value && 'prefix' in value && typeof value.name === 'string' && value.name.startsWith('fuzz-'))
    remember(world.keyNames, value.name, 100);
  for (const [key, child] of Object.entries(value)) if (key !== 'state' || depth < 2) walk(world, child, depth + 1);
}

function moveToGone(world: World, resource: Resource, id: string): void {
  forget(world.live[resource], id);
  remember(world.gone[resource], id, 100);
}

const TYPES = ['capture', 'death', 'strike', 'deployment', 'casualty_claim'];
const PLACES = [
  { admin1: 'Kursk Oblast', country: 'RUS', lat: 51.6, lon: 36.1, precision: 'admin1' },
  { name: 'Sudzha', admin1: 'Kursk Oblast', country: 'RUS', lat: 51.19, lon: 35.27, precision: 'near' },
  { admin1: 'Donetsk Oblast', country: 'UKR', lat: 48.0, lon: 37.8, precision: 'admin1' },
  { country: 'PRK', precision: 'country' },
  { name: 'Black Sea', lat: 43.4, lon: 34.0, precision: 'water' },
];

/**
 * Builds the starting data through the API (so every request is checked too): events of
 * several types, places and reporters, with participants, figures, via chains and documents;
 * extra reports; an edited, a deleted and a merged event; a withdrawn report; cursors of every list.
 */
export async function seedWorld(h: Harness, contract: Contract, world: World, events = 12): Promise<void> {
  const op = (id: string) => contract.operation(id);
  const json = (body: unknown) => ({ body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const ok = async (
    operationId: string,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const request: FuzzRequest = {
      method,
      path,
      ...(body === undefined ? {} : json(body)),
      as: path.startsWith('/v1/api-keys') ? 'admin' : 'editor',
    };
    request.headers = { ...(request.headers ?? {}), ...headers };
    const response = await h.exchange(op(operationId), request);
    absorb(world, op(operationId), path, response);
    if (response.status >= 300)
      throw new Error(`seeding ${method} ${path} failed: ${response.status} ${response.text.slice(0, 500)}`);
    return { response, body: response.text ? (JSON.parse(response.text) as Json) : {} };
  };

  const types = await ok('listEventTypes', 'GET', '/v1/event-types');
  world.eventTypes = ((types.body.data as Json[] | undefined) ?? []).map((t) => String(t.code));

  const reporters = [
    { name: 'General Staff of the Armed Forces of Ukraine', kind: 'military', country: 'UKR' },
    { name: 'Ministry of Defence of the Russian Federation', kind: 'agency', country: 'RUS' },
    { name: 'Example Monitor', kind: 'media' },
  ];
  const ids: string[] = [];
  for (let i = 0; i < events; i++) {
    const reporter = reporters[i % reporters.length]!;
    const created = await ok(
      'createEvent',
      'POST',
      '/v1/events',
      eventBody({
        type: world.eventTypes.includes(TYPES[i % TYPES.length]!) ? TYPES[i % TYPES.length] : 'capture',
        title: `Seed event ${i} near the front`,
        description: i % 2 === 0 ? `Description of seed event ${i}, with a quote about drones.` : null,
        occurred: {
          start: `2024-${String((i % 12) + 1).padStart(2, '0')}-10`,
          end: `2024-${String((i % 12) + 1).padStart(2, '0')}-1${i % 10}`,
          precision: 'range',
        },
        location: PLACES[i % PLACES.length],
        tags: [`tag-${i % 4}`, 'pow'],
        participants: [{ actor: { name: "Korean People's Army", kind: 'military', country: 'PRK' }, role: 'victim' }],
        figures:
          i % 3 === 0
            ? [{ measure: 'killed', value: 10 * i, qualifier: 'approximately', text: `about ${10 * i}` }]
            : [],
        reports: [
          reportBody({
            reporter,
            via: i % 2 === 0 ? [{ name: 'Ukrainian Special Operations Forces', kind: 'military', country: 'UKR' }] : [],
            document: documentBody({
              publisher: i % 2 === 0 ? 'Example Wire' : 'Example News',
              language: 'en',
              published_at: '2024-12-29',
            }),
            stated_at: '2024-12-29T10:00:00Z',
            quote: `Seed quote ${i}`,
            figures: [{ measure: 'captured', low: 1, best: 2, high: 3 }],
          }),
        ],
      }),
    );
    ids.push(String(created.body.id));
  }
  for (const [index, id] of ids.slice(0, 4).entries()) {
    await ok(
      'createEventReport',
      'POST',
      `/v1/events/${id}/reports`,
      reportBody({ reporter: reporters[(index + 1) % 3], stance: 'denies' }),
    );
  }
  await ok(
    'createActor',
    'POST',
    '/v1/actors',
    actorBody({ aliases: ['Alias one'], external_ids: { wikidata: 'Q1' } }),
  );
  await ok('createDocument', 'POST', '/v1/documents', documentBody());
  await ok(
    'patchEvent',
    'PATCH',
    `/v1/events/${ids[1]}`,
    { title: 'Edited seed event', tags: ['edited'] },
    { 'if-match': '*' },
  );
  await ok('deleteEvent', 'DELETE', `/v1/events/${ids[2]}`, { reason: 'seed deletion' }, { 'if-match': '*' });
  await ok('mergeEvent', 'POST', `/v1/events/${ids[3]}/merge`, { into: ids[4] }, { 'if-match': '*' });
  await ok(
    'createEventRelation',
    'POST',
    `/v1/events/${ids[5]}/relations`,
    { event_id: ids[6], relation: 'follows' },
    { 'if-match': '*' },
  );
  const extra = await ok(
    'createEventReport',
    'POST',
    `/v1/events/${ids[7]}/reports`,
    reportBody({ stance: 'disputes' }),
  );
  await ok('deleteReport', 'DELETE', `/v1/reports/${String(extra.body.id)}`, undefined, { 'if-match': '*' });
  await ok('createApiKey', 'POST', '/v1/api-keys', { name: 'fuzz-seed-key', role: 'reader' });
  // A first page of every list, so cursors exist to be replayed.
  for (const [operationId, path] of [
    ['listEvents', '/v1/events'],
    ['listReports', '/v1/reports'],
    ['listActors', '/v1/actors'],
    ['listDocuments', '/v1/documents'],
    ['listEventReports', `/v1/events/${ids[0]}/reports`],
    ['listEventRevisions', `/v1/events/${ids[1]}/revisions`],
    ['listChanges', '/v1/changes'],
  ] as const) {
    const response = await h.exchange(op(operationId), { method: 'GET', path, query: 'limit=1' });
    absorb(world, op(operationId), path, response);
  }
}
