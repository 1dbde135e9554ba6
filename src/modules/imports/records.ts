// What a bulk import reads: records, one per line of the input, each a parsed value or
// the reason the line could not be read. Readers of other formats (ACLED's CSV) produce
// the same records, so one pipeline (import.ts) validates and writes them all.
import type { Readable } from 'node:stream';

/** Where a value of a line breaks a rule: a JSON pointer into the line's value, and why. */
export interface LineViolation {
  path: string;
  message: string;
}

/**
 * One line of the input (numbered from 1): its value, or what kept the reader from parsing it.
 * `bytes`: the line's length, when the reader knows it. `merged`: further lines the reader joined
 * into this value (the rows of one event in ACLED's one-row-per-side layout), counted in the
 * report's `merged`.
 */
export type ImportRecord =
  { line: number; value: unknown; bytes?: number; merged?: number } | { line: number; errors: LineViolation[] };

/**
 * The default line limit (IMPORT_MAX_LINE_BYTES): as long as a JSON request body may be (app.ts), one event being one
 * body.
 */
export const MAX_LINE_BYTES = 1024 * 1024;

const NEWLINE = 0x0a;
const BLANK = /^[ \t\r]*$/;

/**
 * NDJSON: one JSON value per line (LF or CRLF). Blank lines are skipped but counted, so
 * line numbers are those an editor shows. A line that is not UTF-8 or not JSON, or longer
 * than `maxLineBytes`, becomes a record with errors and reading goes on. Reads as the
 * consumer asks for records, so a large input is never held in memory.
 */
export async function* ndjsonRecords(input: Readable, maxLineBytes = MAX_LINE_BYTES): AsyncIterable<ImportRecord> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let line = 0;
  let pieces: Buffer[] = [];
  let length = 0;
  let tooLong = false;

  // A line over the limit is counted, not kept: its bytes are dropped as they come.
  const take = (bytes: Buffer) => {
    if (bytes.length === 0) return;
    length += bytes.length;
    if (tooLong) return;
    if (length > maxLineBytes) {
      tooLong = true;
      pieces = [];
      return;
    }
    pieces.push(bytes);
  };

  const end = (): ImportRecord | null => {
    line++;
    const long = tooLong;
    const size = length;
    const bytes = long ? Buffer.alloc(0) : pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, length);
    pieces = [];
    length = 0;
    tooLong = false;
    if (long) {
      const message = `line ${line} is ${size} bytes long, over the limit of ${maxLineBytes} bytes a line may have (IMPORT_MAX_LINE_BYTES); it was skipped`;
      return { line, errors: [{ path: '', message }] };
    }
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      return { line, errors: [{ path: '', message: 'the line is not valid UTF-8' }] };
    }
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (BLANK.test(text)) return null;
    try {
      return { line, value: JSON.parse(text) as unknown, bytes: size };
    } catch (error) {
      return { line, errors: [{ path: '', message: `the line is not JSON: ${(error as Error).message}` }] };
    }
  };

  for await (const chunk of input) {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    let start = 0;
    for (let newline = data.indexOf(NEWLINE, start); newline !== -1; newline = data.indexOf(NEWLINE, start)) {
      take(data.subarray(start, newline));
      const record = end();
      if (record) yield record;
      start = newline + 1;
    }
    take(data.subarray(start));
  }
  if (length > 0 || tooLong) {
    const record = end();
    if (record) yield record;
  }
}
