// What a dashboard does with a client generated from openapi/openapi.json: types from
// openapi-typescript (tests/openapi/generated/, made by `npm run openapi:client`), calls
// through openapi-fetch. Every request and every field read here is checked against those
// types, so when the document and this use of it disagree, tsc fails: the test compiles this
// file against freshly generated types, and `npm run typecheck` compiles it too.
import createClient from 'openapi-fetch';
import type { components, paths } from './generated/api.js';

type Schemas = components['schemas'];
export type EventCreate = Schemas['EventCreateInput'];
export type EventQuery = NonNullable<paths['/v1/events']['get']['parameters']['query']>;

/**
 * Bodies are JSON and errors problem+json: the client reads those two media types (the
 * list's CSV, NDJSON and GeoJSON exports are other representations of the same 200).
 */
export type Client = ReturnType<typeof createClient<paths, 'application/json' | 'application/problem+json'>>;

export function connect(baseUrl: string, apiKey: string): Client {
  return createClient<paths, 'application/json' | 'application/problem+json'>({
    baseUrl,
    headers: { authorization: `Bearer ${apiKey}` },
    // The document's list parameters are style form, explode false: status=reported,confirmed.
    querySerializer: { array: { style: 'form', explode: false } },
  });
}

/** What a failed call tells its caller, read from the problem+json body through the generated types. */
export interface Failure {
  httpStatus: number;
  contentType: string | null;
  type: string;
  status: number;
  detail: string;
  violations: { path: string; in: string | undefined }[];
  currentVersion: unknown;
  etag: string | null;
}

function failure(problem: Schemas['Problem'], response: Response): Failure {
  return {
    httpStatus: response.status,
    contentType: response.headers.get('content-type'),
    type: problem.type,
    status: problem.status,
    detail: problem.detail,
    violations: (problem.errors ?? []).map((violation) => ({ path: violation.path, in: violation.in })),
    currentVersion: problem.current_version,
    etag: response.headers.get('etag'),
  };
}

class ProblemError extends Error {
  constructor(readonly failure: Failure) {
    super(`${failure.httpStatus} ${failure.type}: ${failure.detail}`);
  }
}

/** A capture one belligerent asserts, with a figure, and the other denies. */
export function disputedCapture(title: string, start: string, tag: string): EventCreate {
  return {
    type: 'capture',
    title,
    occurred: { start, precision: 'day' },
    location: { name: 'Sudzha', admin1: 'Kursk Oblast', country: 'RUS', lat: 51.19, lon: 35.27, precision: 'near' },
    tags: [tag],
    reports: [
      {
        reporter: { name: 'General Staff of the Armed Forces of Ukraine', kind: 'military', country: 'UKR' },
        reporter_role: 'party',
        stance: 'asserts',
        reliability: 'C',
        credibility: 3,
        figures: [{ measure: 'captured', value: 2, qualifier: 'exact', text: 'two soldiers' }],
      },
      {
        reporter: { name: 'Ministry of Defence of the Russian Federation', kind: 'agency', country: 'RUS' },
        reporter_role: 'party',
        stance: 'denies',
        reliability: 'C',
        credibility: 5,
      },
    ],
  };
}

export async function createEvent(client: Client, body: EventCreate, idempotencyKey: string) {
  const { data, error, response } = await client.POST('/v1/events', {
    params: { header: { 'idempotency-key': idempotencyKey } },
    body,
  });
  if (error) throw new ProblemError(failure(error, response));
  return {
    httpStatus: response.status,
    etag: response.headers.get('etag'),
    location: response.headers.get('location'),
    id: data.id,
    version: data.version,
    status: data.status,
    reportCount: data.report_count,
    stances: data.reports.map((report) => `${report.reporter.name}: ${report.stance}`),
    claimedCaptured: data.reports.flatMap((report) =>
      report.figures.filter((figure) => figure.measure === 'captured').map((figure) => figure.best),
    ),
  };
}

/** Follows next_cursor, with the same filters, until the last page; the ids of each page. */
export async function everyPage(client: Client, query: Omit<EventQuery, 'cursor'>): Promise<string[][]> {
  const pages: string[][] = [];
  let page: EventQuery = query;
  for (;;) {
    const { data, error, response } = await client.GET('/v1/events', { params: { query: page } });
    if (error) throw new ProblemError(failure(error, response));
    pages.push(data.data.map((event) => event.id));
    if (data.next_cursor === null) return pages;
    page = { ...query, cursor: data.next_cursor };
  }
}

export async function readEvent(client: Client, id: string) {
  const { data, error, response } = await client.GET('/v1/events/{id}', { params: { path: { id } } });
  if (error) throw new ProblemError(failure(error, response));
  return { etag: response.headers.get('etag'), version: data.version, title: data.title, tags: data.tags };
}

/** A JSON merge patch sent with the ETag the caller read; a 4xx comes back as a Failure, typed from the document. */
export async function retitle(client: Client, id: string, etag: string, title: string, tags: string[]) {
  const { data, error, response } = await client.PATCH('/v1/events/{id}', {
    params: { path: { id }, header: { 'if-match': etag } },
    headers: { 'content-type': 'application/merge-patch+json' },
    body: { title, tags },
  });
  if (error) return { ok: false as const, failure: failure(error, response) };
  return {
    ok: true as const,
    etag: response.headers.get('etag'),
    version: data.version,
    title: data.title,
    tags: data.tags,
    updatedBy: data.updated_by,
  };
}

/** A list request whose filter the server refuses: the 400 comes back as a Failure. */
export async function listWithFilter(client: Client, query: Omit<EventQuery, 'cursor'>) {
  const { data, error, response } = await client.GET('/v1/events', { params: { query } });
  if (error) return { ok: false as const, failure: failure(error, response) };
  return { ok: true as const, ids: data.data.map((event) => event.id) };
}

/**
 * Never called: each line is a misuse the generated types must reject. If the types went
 * slack (`any`, a lost required field, an unknown parameter accepted), the
 * `@ts-expect-error` above it would be unused, and that is a compile error.
 */
export async function misusesTheTypesReject(client: Client, body: EventCreate) {
  // @ts-expect-error an event needs its reports
  await client.POST('/v1/events', { body: { type: body.type, title: body.title, occurred: body.occurred } });
  // @ts-expect-error the filter is `type`, not `types`
  await client.GET('/v1/events', { params: { query: { types: 'capture' } } });
  // @ts-expect-error reliability grades are A to F
  await client.GET('/v1/events', { params: { query: { min_reliability: 'G' } } });
  // @ts-expect-error a PATCH names its event
  await client.PATCH('/v1/events/{id}', { body: { title: 'x' } });
  const { data } = await client.GET('/v1/events', {});
  // @ts-expect-error the page's cursor is next_cursor
  return data?.next_page;
}
