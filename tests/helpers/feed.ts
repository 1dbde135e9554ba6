// Reading GET /v1/changes to its end, for the tests that replay the feed against the live data.
import { expect } from 'vitest';
import type { TestApp } from './test-app.js';

/** An entry of GET /v1/changes. */
export interface Change {
  seq: number;
  resource: 'event' | 'report' | 'actor' | 'document';
  id: string;
  action: 'created' | 'updated' | 'deleted';
  version: number;
  at: string;
}

/** Reads the feed from `since` until a page comes back empty; that page must repeat the cursor. */
export async function readFeed(
  http: TestApp['http'],
  since: string,
  limit = 1000,
): Promise<{ changes: Change[]; cursor: string }> {
  const changes: Change[] = [];
  let cursor = since;
  for (;;) {
    const page = await http.get('/v1/changes').query({ since: cursor, limit }).expect(200);
    if (page.body.data.length === 0) {
      expect(page.body.next_cursor).toBe(cursor);
      return { changes, cursor };
    }
    changes.push(...(page.body.data as Change[]));
    cursor = page.body.next_cursor as string;
  }
}
