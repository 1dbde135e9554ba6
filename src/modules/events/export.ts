// Export formats of the event list: CSV (one row per event, reports, figures and
// actors flattened into readable columns), NDJSON and GeoJSON. Each is a Transform
// from batches of the events' texts as UTF-8 bytes (their stored CSV records for CSV, their
// JSON for NDJSON, their JSON in a Feature for GeoJSON), so an export of a million events never holds more than a batch in memory.
import { Transform } from 'node:stream';

const NEEDS_QUOTES = /[",\r\n]/;

/**
 * The first characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection): =, +,
 * -, @, tab, CR, and their fullwidth forms, which some spreadsheets read alike. csv_field in the
 * migrations holds the same set.
 */
export const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * RFC 4180: quote a field holding a comma, quote, CR or LF; double its quotes. Text that a spreadsheet
 * would run as a formula gets a leading single quote (so `=HYPERLINK(...)` shows as text); numbers are
 * written as they are, so a negative one stays a number.
 */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A cell as csvField wrote it, read back: without the single quote that kept it from running as a formula. */
export function csvText(cell: string): string {
  return cell.startsWith("'") && FORMULA_START.test(cell.slice(1)) ? cell.slice(1) : cell;
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

/** Output held back until it is this long (characters or bytes), so the response is written in large chunks. */
const CHUNK = 64 * 1024;

/**
 * Builds a Transform from batches of event texts (Buffer[], UTF-8) to text: `head`, then each
 * event decoded and passed through `render` (joined by `separator`), then `tail`. It passes on
 * about 64 KB at a time rather than a chunk per event, which cut the socket writes of the response.
 */
export function textTransform(render: (json: string) => string, head = '', tail = '', separator = ''): Transform {
  let first = true;
  let text = '';
  return new Transform({
    writableObjectMode: true,
    transform(batch: Buffer[], _encoding, done) {
      for (const json of batch) {
        text += (first ? head : separator) + render(json.toString('utf8'));
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

/**
 * A Transform for the exports that send each stored text as it is: `head`, then each event's
 * bytes followed by `suffix`, in pieces of about 64 KB. Nothing is decoded: in paired runs of
 * the 1,000,000-row CSV export, decoding each record to a string (which the response then
 * encoded again) cost the service 2.6 to 3.1 µs of CPU a record, against 2.1 to 2.5 without
 * (bench/RESULTS.md).
 */
export function bytesTransform(head: string, suffix = '', { separator = '', tail = '' } = {}): Transform {
  const after = Buffer.from(suffix, 'utf8');
  const between = Buffer.from(separator, 'utf8');
  let first = true;
  let pieces: Buffer[] = [Buffer.from(head, 'utf8')];
  let length = pieces[0]!.length;
  return new Transform({
    writableObjectMode: true,
    transform(batch: Buffer[], _encoding, done) {
      for (const text of batch) {
        if (!first && between.length > 0) {
          pieces.push(between);
          length += between.length;
        }
        first = false;
        pieces.push(text);
        length += text.length;
        if (after.length > 0) {
          pieces.push(after);
          length += after.length;
        }
      }
      if (length < CHUNK) return done();
      const full = Buffer.concat(pieces, length);
      pieces = [];
      length = 0;
      done(null, full);
    },
    flush(done) {
      if (tail) pieces.push(Buffer.from(tail, 'utf8'));
      done(null, Buffer.concat(pieces));
    },
  });
}

/**
 * `bom=true` on a CSV export: the UTF-8 byte-order mark first, by which spreadsheets (Excel) tell
 * UTF-8 from their local code page and show non-ASCII names as written.
 */
export const UTF8_BOM = '\uFEFF';

/** The header, then the events' stored CSV records (event_csv_record in the migrations) as they are. */
export const toCsv = (bom = false) => bytesTransform(`${bom ? UTF8_BOM : ''}${CSV_COLUMNS.join(',')}\r\n`);

export const toNdjson = () => bytesTransform('', '\n');

/** RFC 7946: a FeatureCollection of Points ([lon, lat]), each with the whole event as its properties. */
export const toGeoJson = () =>
  bytesTransform('{"type":"FeatureCollection","features":[', '', { separator: ',', tail: ']}\n' });
