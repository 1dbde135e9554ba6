// The export streams of the event list: CSV, NDJSON and GeoJSON send each event's stored text
// (its CSV record, its JSON, its JSON in a Feature) as it is; the ACLED CSV (acled.ts) renders each
// event's JSON again. Each is a Transform from batches of the events' texts as UTF-8 bytes, so an
// export of a million events never holds more than a batch in memory.
import { Transform } from 'node:stream';
import { CSV_HEADER } from './csv.js';

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

/** The header, then the events' stored CSV records (event_csv_record, csv.ts) as they are. */
export const toCsv = (bom = false) => bytesTransform(`${bom ? UTF8_BOM : ''}${CSV_HEADER}`);

export const toNdjson = () => bytesTransform('', '\n');

/** RFC 7946: a FeatureCollection of Points ([lon, lat]), each with the whole event as its properties. */
export const toGeoJson = () =>
  bytesTransform('{"type":"FeatureCollection","features":[', '', { separator: ',', tail: ']}\n' });
