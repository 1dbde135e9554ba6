// Export formats of the event list: CSV (one row per event, reports, figures and
// actors flattened into readable columns), NDJSON and GeoJSON. Each is a Transform
// from batches of the events' texts (their stored CSV records for CSV, their JSON for
// the others) to text, so an export of a million events never holds more than a batch in memory.
import { Transform } from 'node:stream';
import type { z } from 'zod';
import type { EventSchema } from './schemas.js';

type Event = z.infer<typeof EventSchema>;

const NEEDS_QUOTES = /[",\r\n]/;

/** RFC 4180: quote a field holding a comma, quote, CR or LF; double its quotes. */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The columns of the CSV export, in the order event_csv_record (in the migrations) writes them. */
export const CSV_COLUMNS = [
  'id',
  'type',
  'status',
  'title',
  'description',
  'occurred_start',
  'occurred_end',
  'occurred_precision',
  'location_name',
  'admin1',
  'admin2',
  'country',
  'lat',
  'lon',
  'location_precision',
  'participants',
  'figures',
  'report_count',
  'reporters',
  'via',
  'reported_figures',
  'documents',
  'tags',
  'external_ids',
  'version',
  'created_at',
  'updated_at',
] as const;

/** Text held back until it is this long (characters), so the response is written in large chunks. */
const CHUNK = 64 * 1024;

/**
 * Builds a Transform from batches of event JSON texts (string[]) to text: `head`, then each
 * event through `render` (joined by `separator`), then `tail`. It passes on about 64 KB at a
 * time rather than a chunk per event, which cut the socket writes of the response.
 */
export function textTransform(render: (json: string) => string, head = '', tail = '', separator = ''): Transform {
  let first = true;
  let text = '';
  return new Transform({
    writableObjectMode: true,
    transform(batch: string[], _encoding, done) {
      for (const json of batch) {
        text += (first ? head : separator) + render(json);
        first = false;
      }
      if (text.length < CHUNK) return done();
      const full = text;
      text = '';
      done(null, full);
    },
    flush(done) {
      done(null, text + (first ? head : '') + tail);
    },
  });
}

/** The header, then the events' stored CSV records (event_csv_record in the migrations) as they are. */
export const toCsv = () => textTransform((record) => record, `${CSV_COLUMNS.join(',')}\r\n`);

export const toNdjson = () => textTransform((json) => `${json}\n`);

/** RFC 7946: a FeatureCollection of Points ([lon, lat]), each with the whole event as its properties. */
export const toGeoJson = () =>
  textTransform(
    (json) => {
      const event = JSON.parse(json) as Event;
      const { lat, lon } = event.location;
      return JSON.stringify({ type: 'Feature', id: event.id, geometry: { type: 'Point', coordinates: [lon, lat] }, properties: event });
    },
    '{"type":"FeatureCollection","features":[',
    ']}\n',
    ',',
  );
