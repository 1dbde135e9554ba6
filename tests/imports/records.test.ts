// Reading NDJSON: one record per non-blank line, numbered as an editor numbers lines,
// whatever the chunks the input arrives in; unreadable lines become records with errors.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MAX_LINE_BYTES, ndjsonRecords, type ImportRecord } from '../../src/modules/imports/records.js';

async function read(chunks: (string | Buffer)[]): Promise<ImportRecord[]> {
  const records: ImportRecord[] = [];
  for await (const record of ndjsonRecords(
    Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))),
  )) {
    records.push(record);
  }
  return records;
}

describe('ndjsonRecords', () => {
  it('numbers lines from 1, counts blank lines without yielding them, takes CRLF, a BOM and a last line without newline', async () => {
    const text = '\uFEFF{"a":1}\r\n\n   \r\n{"b":2}\n[3]';
    expect(await read([text])).toEqual([
      { line: 1, value: { a: 1 }, bytes: expect.any(Number) },
      { line: 4, value: { b: 2 }, bytes: expect.any(Number) },
      { line: 5, value: [3], bytes: expect.any(Number) },
    ]);
  });

  it('gives the same records however the input is cut into chunks, even inside a UTF-8 character', async () => {
    const text = '{"title":"Kyiv – Київ"}\n\n{"n":2}\n';
    const bytes = Buffer.from(text);
    const whole = await read([bytes]);
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(await read([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(whole);
    }
    expect(await read([...bytes].map((b) => Buffer.from([b])))).toEqual(whole);
    expect(whole).toEqual([
      { line: 1, value: { title: 'Kyiv – Київ' }, bytes: expect.any(Number) },
      { line: 3, value: { n: 2 }, bytes: expect.any(Number) },
    ]);
  });

  it('reports a line that is not JSON, not UTF-8 or too long, and reads on', async () => {
    const long = `{"x":"${'a'.repeat(MAX_LINE_BYTES)}"}`;
    const records = await read([
      '{"ok":1}\n{oops\n',
      Buffer.from([0xff, 0xfe, 0x0a]),
      long.slice(0, 1000),
      long.slice(1000),
      '\n{"ok":2}',
    ]);
    expect(records).toEqual([
      { line: 1, value: { ok: 1 }, bytes: expect.any(Number) },
      { line: 2, errors: [{ path: '', message: expect.stringMatching(/^the line is not JSON: /) }] },
      { line: 3, errors: [{ path: '', message: 'the line is not valid UTF-8' }] },
      {
        line: 4,
        errors: [
          {
            path: '',
            message: `line 4 is ${long.length} bytes long, over the limit of ${MAX_LINE_BYTES} bytes a line may have (IMPORT_MAX_LINE_BYTES); it was skipped`,
          },
        ],
      },
      { line: 5, value: { ok: 2 }, bytes: expect.any(Number) },
    ]);
  });

  it('yields nothing for an empty input or only blank lines', async () => {
    expect(await read([])).toEqual([]);
    expect(await read(['\n\n \n'])).toEqual([]);
  });
});
