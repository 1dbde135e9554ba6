// Reads a query's rows with COPY (...) TO STDOUT (FORMAT binary): the exports of everything that
// matches, and event pages, whose stored JSON it hands over as the bytes PostgreSQL sent (pg's
// query() decodes every text to a string, which the reply then had to encode again). Why not a
// cursor for the exports (pg-query-stream): COPY sends rows
// without a round trip per batch, and a binary COPY row is a length and the text, split per
// chunk received rather than parsed into a row object per event. In paired runs of the CSV
// export of 1,000,000 events the service used about a quarter less CPU per event than with
// a cursor over the same query (bench/RESULTS.md). COPY takes no bind parameters: the values
// are written into the statement as literals, in the text form pg would have bound.
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

/** pg's own conversion of a parameter value to its text form (not in its type declarations). */
const { prepareValue } = (pg as unknown as { utils: { prepareValue: (value: unknown) => unknown } }).utils;

/** `text` with each `$n` replaced by values[n - 1] as an escaped SQL literal. */
export function inlineParameters(text: string, values: readonly unknown[]): string {
  return text.replace(/\$(\d+)/g, (_, n: string) => {
    const index = Number(n) - 1;
    if (index >= values.length) throw new Error(`no value for $${n}`);
    const prepared = prepareValue(values[index]);
    if (prepared === null) return 'NULL';
    if (typeof prepared !== 'string') throw new Error(`$${n} has no text form`);
    return pg.escapeLiteral(prepared);
  });
}

/** Binary COPY output starts with this signature, then flags (int32) and the length of a header extension (int32). */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** One row of binary COPY output: each field's bytes (a view into the chunk received), null for NULL. */
export type CopyRow = (Buffer | null)[];

/**
 * The whole rows of binary COPY output in `data` from offset `at`, with `fields` columns each,
 * and the offset after them: where a row cut short starts, or past the trailer. Per row: a field
 * count (int16; -1 is the trailer), then per field a length (int32, -1 for NULL) and the bytes,
 * handed over as views into `data`.
 */
function readRows(data: Buffer, at: number, fields: number): { rows: CopyRow[] | Error; next: number } {
  const rows: CopyRow[] = [];
  rows: while (data.length - at >= 2) {
    const count = data.readInt16BE(at);
    if (count === -1) return { rows, next: at + 2 };
    if (count !== fields)
      return { rows: new Error(`binary COPY row with ${count} fields, expected ${fields}`), next: at };
    const row: CopyRow = [];
    let next = at + 2;
    for (let field = 0; field < count; field += 1) {
      if (data.length - next < 4) break rows;
      const length = data.readInt32BE(next);
      next += 4;
      if (length < 0) {
        row.push(null);
        continue;
      }
      if (data.length - next < length) break rows;
      row.push(data.subarray(next, next + length));
      next += length;
    }
    rows.push(row);
    at = next;
  }
  return { rows, next: at };
}

/**
 * Where the rows of binary COPY output start: after the signature, flags (int32) and the header extension; null if
 * `data` is shorter.
 */
function rowsStart(data: Buffer): number | null {
  const headerLength = data.length >= 19 ? 19 + data.readInt32BE(15) : Infinity;
  return data.length < headerLength ? null : headerLength;
}

/**
 * Splits binary COPY output of a query with `fields` columns into batches: each chunk received
 * becomes an array of the rows it completes (a row cut by a chunk boundary waits for the next).
 * Per row: a field count (int16), then per field a length (int32, -1 for NULL) and the bytes;
 * a text column's bytes are its UTF-8 text as stored, so nothing is decoded here.
 */
class CopyRows extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  private headerSeen = false;

  constructor(private readonly fields: number) {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let at = 0;
    if (!this.headerSeen) {
      const start = rowsStart(data);
      if (start === null) {
        this.pending = data;
        return done();
      }
      if (!data.subarray(0, SIGNATURE.length).equals(SIGNATURE)) return done(new Error('not binary COPY output'));
      at = start;
      this.headerSeen = true;
    }
    const { rows, next } = readRows(data, at, this.fields);
    if (rows instanceof Error) return done(rows);
    at = next;
    // Copied, so that the chunk the rows were cut from is not held by the few bytes left over.
    this.pending = Buffer.from(data.subarray(at));
    done(null, rows.length > 0 ? rows : undefined);
  }

  override _flush(done: TransformCallback): void {
    done(this.pending.length > 0 ? new Error('binary COPY output ended inside a row') : null);
  }
}

/**
 * The rows of a query with `fields` columns, as a stream of row batches (CopyRow[]) in order.
 * The connection returns to the pool when the COPY ends; on a database error, or when the
 * stream is destroyed before the end (a client gone), it is closed instead, since it is in
 * the middle of a COPY. A database error fails the stream.
 */
export async function copyRows(
  pool: pg.Pool,
  text: string,
  values: readonly unknown[],
  fields: number,
): Promise<Readable> {
  const statement = copyStatement(text, values);
  const client = await pool.connect();
  let released = false;
  const release = (error?: Error) => {
    if (released) return;
    released = true;
    client.off('error', release);
    client.release(error);
  };
  // A connection lost mid-COPY is reported on the client before the COPY: unheard, it would crash the process.
  client.on('error', release);
  const copy = client.query(copyTo(statement));
  const rows = new CopyRows(fields);
  // A listener for good: pg may report the connection's end to the COPY after the pipeline is done.
  copy.on('error', (error: Error) => release(error));
  copy.once('end', () => release());
  copy.once('close', () => release(new Error('COPY abandoned before its end')));
  // Destroying the batches (a client gone, a failed export) destroys the COPY; a failed COPY fails the batches.
  pipeline(copy, rows, () => {});
  return rows;
}

const copyStatement = (text: string, values: readonly unknown[]) =>
  `COPY (${inlineParameters(text, values)}) TO STDOUT (FORMAT binary)`;

/**
 * Every row of a short query's binary COPY (a page of events), read whole and split once: no
 * stream stages per page. Through copyRows (a Transform in a pipeline, read with for await),
 * a page's stream machinery took about a tenth of the service's busy time under load, a
 * pipeline's AbortController and the DOMException it raises at its end included (CPU profile,
 * bench/RESULTS.md).
 */
export async function copyAllRows(
  pool: pg.Pool,
  text: string,
  values: readonly unknown[],
  fields: number,
): Promise<CopyRow[]> {
  const client = await pool.connect();
  let failure: Error | undefined;
  try {
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      // A connection lost mid-COPY is reported on the client: unheard, it would crash the process.
      client.once('error', reject);
      const copy = client.query(copyTo(copyStatement(text, values)));
      copy.on('data', (chunk: Buffer) => chunks.push(chunk));
      copy.once('error', reject);
      copy.once('end', () => {
        client.off('error', reject);
        resolve();
      });
    });
    const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const start = rowsStart(data);
    if (start === null || !data.subarray(0, SIGNATURE.length).equals(SIGNATURE))
      throw new Error('not binary COPY output');
    const { rows, next } = readRows(data, start, fields);
    if (rows instanceof Error) throw rows;
    if (next !== data.length) throw new Error('binary COPY output ended inside a row');
    return rows;
  } catch (error) {
    failure = error as Error;
    throw error;
  } finally {
    // A connection that failed mid-COPY is closed, not returned to the pool.
    client.release(failure);
  }
}

/**
 * The one text column of a query, as a stream of batches of its values' UTF-8 bytes (Buffer[])
 * in order, for the exports of everything that matches; a NULL fails the stream.
 */
export async function copyTextColumn(pool: pg.Pool, text: string, values: readonly unknown[]): Promise<Readable> {
  const toTexts = new Transform({
    objectMode: true,
    transform(batch: CopyRow[], _encoding, done) {
      const texts: Buffer[] = [];
      for (const [field] of batch) {
        if (!field) return done(new Error('binary COPY row with a NULL text'));
        texts.push(field);
      }
      done(null, texts);
    },
  });
  const rows = await copyRows(pool, text, values, 1);
  pipeline(rows, toTexts, () => {});
  return toTexts;
}
