// A streaming RFC 4180 reader that knows on which line each record starts, counting the
// line breaks inside quoted fields (CRLF, LF or CR, each one line). Import reports cite
// those lines, so a user can find a broken row in an editor.

/** A record and the line (from 1) where it starts; or the error of a record that cannot be read. */
export type CsvRecord = { line: number; fields: string[] } | { line: number; error: string };

/**
 * The records of a CSV text given in chunks (strings, or UTF-8 bytes, split anywhere). A
 * leading byte-order mark is dropped; blank lines are skipped; a quote inside an unquoted
 * field, or after a closing quote, is kept as text. A quoted field still open at the end
 * is an error at the line where its record started.
 */
export async function* csvRecords(chunks: AsyncIterable<string | Uint8Array>): AsyncGenerator<CsvRecord> {
  const decoder = new TextDecoder('utf-8');
  let fields: string[] = [];
  let field = '';
  /**
   * start: nothing of the field read yet; plain/quoted: inside one; closed: after its closing quote (or a quote, if ""
   * follows).
   */
  let state: 'start' | 'plain' | 'quoted' | 'closed' = 'start';
  let line = 1;
  let recordLine = 1;
  /** The last character was a CR: a LF right after it belongs to the same line break. */
  let afterCr = false;
  let pending: CsvRecord[] = [];
  let atStart = true;

  const endRecord = () => {
    fields.push(field);
    if (fields.length > 1 || fields[0]!.trim() !== '') pending.push({ line: recordLine, fields });
    fields = [];
    field = '';
    state = 'start';
  };

  const read = (text: string) => {
    // TextDecoder drops a byte-order mark from bytes; text given as strings may still hold one.
    if (atStart && text.length > 0) {
      atStart = false;
      if (text.startsWith('\uFEFF')) text = text.slice(1);
    }
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      const lfOfCrlf = afterCr && ch === '\n';
      afterCr = ch === '\r';
      if (state === 'quoted') {
        if (ch === '"') state = 'closed';
        else {
          field += ch;
          if ((ch === '\n' && !lfOfCrlf) || ch === '\r') line++;
        }
        continue;
      }
      if (ch === '\n' || ch === '\r') {
        if (lfOfCrlf) continue; // the record ended at the CR
        line++;
        if (state === 'start' && fields.length === 0) {
          recordLine = line; // a blank line
          continue;
        }
        endRecord();
        recordLine = line;
        continue;
      }
      if (ch === ',') {
        fields.push(field);
        field = '';
        state = 'start';
      } else if (ch === '"' && state === 'start') {
        state = 'quoted';
      } else if (ch === '"' && state === 'closed') {
        field += '"'; // an escaped quote: back inside the quotes
        state = 'quoted';
      } else {
        field += ch;
        state = state === 'closed' ? 'closed' : 'plain';
      }
    }
  };

  for await (const chunk of chunks) {
    read(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    if (pending.length > 0) {
      yield* pending;
      pending = [];
    }
  }
  const finish = () => {
    read(decoder.decode());
    if (state === 'quoted')
      pending.push({ line: recordLine, error: 'a quoted field is never closed (a quote is missing)' });
    else if (state !== 'start' || fields.length > 0) endRecord();
  };
  finish();
  yield* pending;
}
