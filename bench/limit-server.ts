// The true limit of this design for a list page (issue 19): plain node:http and pg (a pool of 10)
// that read the stored renderings with the service's own SQL (eventPageSql, imported so the two
// cannot drift) through binary COPY, and pass the bytes on undecoded in the service's envelope.
// No framework, no validation library, no hooks: what is left is PostgreSQL, the socket and the
// least JavaScript that answers the same bytes. bench/run.ts checks that its pages are
// byte-identical to the service's for every shape before it measures either.
//
//   node --import tsx bench/limit-server.ts <database-url> <port>
//
// It understands only the parameters of bench/shapes.ts (limit, cursor, type, occurred_from,
// occurred_to, reporter, bbox, q), parsed by hand; anything else is a 400.
import http from 'node:http';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { SESSION_OPTIONS } from '../src/db/client.js';
import { encodeCursor } from '../src/http/cursor.js';
import { inlineParameters } from '../src/modules/events/copy-stream.js';
import type { EventFilters } from '../src/modules/events/filters.js';
import { eventPageSql } from '../src/modules/events/repository.js';

const [databaseUrl, port = '3102'] = process.argv.slice(2);
if (!databaseUrl) throw new Error('usage: limit-server.ts <database-url> [port]');

// The service's session settings (UTC, no parallel workers, no JIT): both meet the same planner.
const pool = new pg.Pool({ connectionString: databaseUrl, max: 10, options: SESSION_OPTIONS });

/** The filters and paging of a shape's query string, by hand (the service validates them with zod). */
function pageRequest(search: URLSearchParams) {
  const filters: EventFilters = {};
  let limit = 50;
  let cursor: string | undefined;
  for (const [name, value] of search) {
    if (name === 'limit') limit = Number(value);
    else if (name === 'cursor') cursor = value;
    else if (name === 'type') filters.type = value.split(',');
    else if (name === 'reporter') filters.reporter = value.split(',');
    else if (name === 'occurred_from') filters.occurred_from = value;
    else if (name === 'occurred_to') filters.occurred_to = value;
    else if (name === 'q') filters.q = value.trim();
    else if (name === 'bbox') {
      const [minLon, minLat, maxLon, maxLat] = value.split(',').map(Number) as [number, number, number, number];
      filters.bbox = { minLon, minLat, maxLon, maxLat };
    } else throw new Error(`unsupported parameter ${name}`);
  }
  return { filters, sort: '-occurred' as const, cursor, limit };
}

/** Rows of binary COPY output (all of it in one buffer): each field's bytes, a view into it. */
function copyRows(data: Buffer): (Buffer | null)[][] {
  const rows: (Buffer | null)[][] = [];
  let at = 19 + data.readInt32BE(15); // signature (11), flags (4), header extension length (4) and the extension
  for (;;) {
    const count = data.readInt16BE(at);
    at += 2;
    if (count === -1) return rows;
    const row: (Buffer | null)[] = [];
    for (let field = 0; field < count; field += 1) {
      const length = data.readInt32BE(at);
      at += 4;
      if (length < 0) row.push(null);
      else {
        row.push(data.subarray(at, at + length));
        at += length;
      }
    }
    rows.push(row);
  }
}

async function copy(statement: string): Promise<Buffer> {
  const client = await pool.connect();
  try {
    const chunks: Buffer[] = [];
    const stream = client.query(copyTo(statement));
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } finally {
    client.release();
  }
}

const HEAD = Buffer.from('{"data":[');
const COMMA = Buffer.from(',');

async function page(url: URL): Promise<{ body: Buffer; next: string | null }> {
  const request = pageRequest(url.searchParams);
  const { text, values } = eventPageSql(request);
  const rows = copyRows(await copy(`COPY (${inlineParameters(text, values)}) TO STDOUT (FORMAT binary)`));
  const items = rows.slice(0, request.limit);
  const last = items.at(-1);
  const next =
    rows.length > request.limit && last
      ? encodeCursor({ sort: request.sort, key: String(last[1]), id: String(last[0]) })
      : null;
  const parts: Buffer[] = [HEAD];
  items.forEach((row, i) => {
    // The service renders a missing text on the fly; the benchmark's database has every one stored.
    if (!row[2]) throw new Error(`event ${String(row[0])} has no stored rendering`);
    if (i > 0) parts.push(COMMA);
    parts.push(row[2]);
  });
  parts.push(Buffer.from(`],"next_cursor":${JSON.stringify(next)}}\n`));
  return { body: Buffer.concat(parts), next };
}

// Garbage collections by kind, for bench/run.ts to compare with the service's (prom-client's
// nodejs_gc_duration_seconds).
const gc = { major: 0, minor: 0, incremental: 0, weakcb: 0 };
const GC_KINDS: Record<number, keyof typeof gc> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = GC_KINDS[(entry as unknown as { detail: { kind: number } }).detail.kind];
    if (kind) gc[kind] += 1;
  }
}).observe({ entryTypes: ['gc'] });

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
  if (url.pathname === '/gc') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(gc));
    return;
  }
  if (req.method !== 'GET' || url.pathname !== '/v1/events') {
    res.writeHead(404).end();
    return;
  }
  page(url).then(
    ({ body, next }) => {
      const headers: http.OutgoingHttpHeaders = {
        'content-type': 'application/json; charset=utf-8',
        'content-length': body.length,
      };
      if (next) {
        url.searchParams.set('cursor', next);
        headers.link = `<${url.toString()}>; rel="next"`;
      }
      res.writeHead(200, headers).end(body);
    },
    (error: unknown) => {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
    },
  );
});
server.keepAliveTimeout = 60_000;
server.listen(Number(port), '127.0.0.1', () => console.error(`limit server listening on ${port}`));
