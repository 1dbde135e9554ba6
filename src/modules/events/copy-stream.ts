// Streams the one text column of a query with COPY (...) TO STDOUT (FORMAT binary), for the
// exports of everything that matches. Why not a cursor (pg-query-stream): COPY sends rows
// without a round trip per batch, and a binary COPY row is a length and the text, split per
// chunk received rather than parsed into a row object per event. In paired runs of the CSV
// export of 1,000,000 events the service used about a quarter less CPU per event than with
// a cursor over the same query (bench/RESULTS.md). COPY takes no bind parameters: the values
// are written into the statement as literals, in the text form pg would have bound.
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

/** pg's own conversion of a parameter value to its text form (not in its type declarations). */
const { prepareValue } = (pg as unknown as { utils: { prepareValue(value: unknown): unknown } }).utils;

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

/**
 * Splits binary COPY output of a one-column text query into batches: each chunk received
 * becomes an array of the texts of the rows it completes (a row cut by a chunk boundary waits
 * for the next). Per row: a field count (int16, 1), a length (int32, -1 for NULL), the bytes.
 */
class CopyTextRows extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  private headerSeen = false;

  constructor() {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let at = 0;
    if (!this.headerSeen) {
      const headerLength = data.length >= 19 ? 19 + data.readInt32BE(15) : Infinity;
      if (data.length < headerLength) {
        this.pending = data;
        return done();
      }
      if (!data.subarray(0, SIGNATURE.length).equals(SIGNATURE)) return done(new Error('not binary COPY output'));
      at = headerLength;
      this.headerSeen = true;
    }
    const texts: string[] = [];
    while (data.length - at >= 2) {
      const fields = data.readInt16BE(at);
      if (fields === -1) {
        at += 2; // the trailer: nothing follows
        break;
      }
      if (fields !== 1) return done(new Error(`binary COPY row with ${fields} fields, expected 1`));
      if (data.length - at < 6) break;
      const length = data.readInt32BE(at + 2);
      if (length < 0) return done(new Error('binary COPY row with a NULL text'));
      if (data.length - at < 6 + length) break;
      texts.push(data.toString('utf8', at + 6, at + 6 + length));
      at += 6 + length;
    }
    this.pending = data.subarray(at);
    done(null, texts.length > 0 ? texts : undefined);
  }

  override _flush(done: TransformCallback): void {
    done(this.pending.length > 0 ? new Error('binary COPY output ended inside a row') : null);
  }
}

/**
 * The rows of a query returning one text column, as a stream of string batches in order.
 * The connection returns to the pool when the COPY ends; on a database error, or when the
 * stream is destroyed before the end (a client gone), it is closed instead, since it is in
 * the middle of a COPY. A database error fails the stream.
 */
export async function copyTextColumn(pool: pg.Pool, text: string, values: readonly unknown[]): Promise<Readable> {
  const statement = `COPY (${inlineParameters(text, values)}) TO STDOUT (FORMAT binary)`;
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
  const rows = new CopyTextRows();
  // A listener for good: pg may report the connection's end to the COPY after the pipeline is done.
  copy.on('error', (error: Error) => release(error));
  copy.once('end', () => release());
  copy.once('close', () => release(new Error('COPY abandoned before its end')));
  // Destroying the batches (a client gone, a failed export) destroys the COPY; a failed COPY fails the batches.
  pipeline(copy, rows, () => {});
  return rows;
}
