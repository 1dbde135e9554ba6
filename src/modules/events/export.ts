// Export formats of the event list: CSV (one row per event, reports, figures and
// actors flattened into readable columns), NDJSON and GeoJSON. Each is a Transform
// from the database stream's rows `{ json }` to text, so an export of a million
// events never holds more than a batch in memory.
import { Transform } from 'node:stream';
import type { z } from 'zod';
import type { EventSchema } from './schemas.js';

type Event = z.infer<typeof EventSchema>;
type Figure = Event['figures'][number];

/** RFC 4180: quote a field holding a comma, quote, CR or LF; double its quotes. */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function figureText(figure: Figure): string {
  const { low, best, high } = figure;
  const what = figure.unit ? `${figure.measure} (${figure.unit})` : figure.measure;
  const numbers =
    low !== null && low === best && best === high
      ? String(best)
      : [low !== null ? `low ${low}` : '', best !== null ? `best ${best}` : '', high !== null ? `high ${high}` : '']
          .filter(Boolean)
          .join(', ');
  const wording = figure.text ? ` "${figure.text}"` : '';
  return `${what}: ${numbers || 'not stated'}${wording}`;
}

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
  'version',
  'created_at',
  'updated_at',
] as const;

/** One CSV record for an event. Lists inside a cell are separated by "; ". */
export function eventCsvRecord(event: Event): string {
  const reporters = event.reports.map((r) => {
    const grade = `${r.reliability ?? '-'}${r.credibility ?? '-'}`;
    return `${r.reporter.name} (${r.reporter_role}, ${r.stance}, ${grade}${r.stated_at ? `, ${r.stated_at}` : ''})`;
  });
  const chains = event.reports.filter((r) => r.via.length > 0).map((r) => [r.reporter.name, ...r.via.map((a) => a.name)].join(' < '));
  const claimed = event.reports.flatMap((r) => r.figures.map((f) => `${r.reporter.name}: ${figureText(f)}`));
  const documents = [...new Set(event.reports.flatMap((r) => (r.document ? [r.document.url] : [])))];
  const values: Record<(typeof CSV_COLUMNS)[number], string | number | null> = {
    id: event.id,
    type: event.type,
    status: event.status,
    title: event.title,
    description: event.description,
    occurred_start: event.occurred.start,
    occurred_end: event.occurred.end,
    occurred_precision: event.occurred.precision,
    location_name: event.location.name,
    admin1: event.location.admin1,
    admin2: event.location.admin2,
    country: event.location.country,
    lat: event.location.lat,
    lon: event.location.lon,
    location_precision: event.location.precision,
    participants: event.participants.map((p) => `${p.role}: ${p.actor.name}`).join('; '),
    figures: event.figures.map(figureText).join('; '),
    report_count: event.reports.length,
    reporters: reporters.join('; '),
    via: chains.join('; '),
    reported_figures: claimed.join('; '),
    documents: documents.join('; '),
    tags: event.tags.join('; '),
    version: event.version,
    created_at: event.created_at,
    updated_at: event.updated_at,
  };
  return `${CSV_COLUMNS.map((column) => csvField(values[column])).join(',')}\r\n`;
}

interface Row {
  json: string;
}

/** Builds a Transform that writes `head`, then each row through `render` (joined by `separator`), then `tail`. */
function textTransform(render: (row: Row) => string, head = '', tail = '', separator = ''): Transform {
  let first = true;
  return new Transform({
    writableObjectMode: true,
    transform(row: Row, _encoding, done) {
      const prefix = first ? head : separator;
      first = false;
      done(null, prefix + render(row));
    },
    flush(done) {
      done(null, (first ? head : '') + tail);
    },
  });
}

export const toCsv = () => textTransform((row) => eventCsvRecord(JSON.parse(row.json) as Event), `${CSV_COLUMNS.join(',')}\r\n`);

export const toNdjson = () => textTransform((row) => `${row.json}\n`);

/** RFC 7946: a FeatureCollection of Points ([lon, lat]), each with the whole event as its properties. */
export const toGeoJson = () =>
  textTransform(
    (row) => {
      const event = JSON.parse(row.json) as Event;
      const { lat, lon } = event.location;
      return JSON.stringify({ type: 'Feature', id: event.id, geometry: { type: 'Point', coordinates: [lon, lat] }, properties: event });
    },
    '{"type":"FeatureCollection","features":[',
    ']}\n',
    ',',
  );
