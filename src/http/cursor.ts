// Opaque keyset cursors: base64url of the sort name, the sort key and the id of
// the last row served. A cursor that does not decode to that shape is a 400.
import { invalidInput } from './errors.js';

export interface Cursor {
  sort: string;
  key: string | number | null;
  id: string;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.sort, cursor.key, cursor.id])).toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Decodes a cursor made for `sort`; `isKey` checks the sort key's type. */
export function decodeCursor(text: string, sort: string, isKey: (key: unknown) => boolean): Cursor {
  const refuse = (why: string) =>
    invalidInput(
      [{ path: '/cursor', message: why, in: 'query' }],
      'The cursor is not one this server issued for this query.',
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw refuse('cursor is malformed');
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw refuse('cursor is malformed');
  const [cursorSort, key, id] = parsed as unknown[];
  if (cursorSort !== sort) throw refuse(`cursor was issued for sort ${String(cursorSort)}, not ${sort}`);
  if (typeof id !== 'string' || !UUID.test(id) || !isKey(key)) throw refuse('cursor is malformed');
  return { sort, key: key as Cursor['key'], id };
}
