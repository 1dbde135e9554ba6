// Writes under fuzz: each request is checked like any other, and a write answered
// 4xx must leave the database as it was (the fingerprint of every table, the change
// feed included). The feed itself must list exactly the revisions accepted writes made.
import type { Database } from '../../src/db/client.js';
import type { Contract, Operation } from './contract.js';
import { CURRENT_ETAG, type FuzzRequestDraft, type World } from './generators.js';
import {
  fingerprint,
  revisionCount,
  type Caller,
  type FuzzRequest,
  type FuzzResponse,
  type Harness,
} from './harness.js';
import { absorb } from './world.js';

export class WriteFuzzer {
  private last = '';
  accepted = 0;
  rejected = 0;

  constructor(
    private readonly h: Harness,
    private readonly contract: Contract,
    private readonly world: World,
    private readonly db: Database,
  ) {}

  /** The database's fingerprint after the last write. */
  get fingerprint(): string {
    return this.last;
  }

  async start(): Promise<void> {
    this.last = await fingerprint(this.db);
  }

  /**
   * The role each write of the contract needs, learnt from the API itself: an editor key
   * refused with 403 means admin. Each probe is an empty body to a nil id, refused either way.
   */
  async learnOwners(): Promise<Record<string, Caller>> {
    const owners: Record<string, Caller> = {};
    for (const operation of this.contract.operations.filter((op) => op.method !== 'get')) {
      const path = operation.path.replace(/\{([^}]+)\}/g, (_, name: string) =>
        name === 'relation' ? 'follows' : name === 'name' ? 'fuzz-none' : '00000000-0000-0000-0000-000000000000',
      );
      const probe: FuzzRequest = {
        method: operation.method.toUpperCase(),
        path,
        body: '{}',
        headers: { 'content-type': 'application/json' },
      };
      const response = await this.send(operation, probe);
      owners[operation.operationId] = response.status === 403 ? 'admin' : 'editor';
    }
    return owners;
  }

  /** The ETag the resource of `path` has now, read with a GET (itself checked), or "1" when it has none. */
  private async currentEtag(path: string): Promise<string> {
    // Only a UUID names a resource; the write itself will say what is wrong with anything else.
    const resource = /^\/v1\/(events|reports|actors|documents)\/[0-9a-fA-F-]{36}(?=\/|$)/.exec(path)?.[0];
    if (!resource) return '"1"';
    const get = this.contract.match('GET', resource);
    const response = await this.h.exchange(get, { method: 'GET', path: resource });
    absorb(this.world, get, resource, response);
    const etag = response.headers.etag;
    return typeof etag === 'string' ? etag : '"1"';
  }

  /** Sends a generated write and checks that a rejected one changed nothing. */
  async write(operation: Operation, draft: FuzzRequestDraft): Promise<FuzzResponse> {
    const { bodyKind: _kind, ...request } = draft;
    const headers = { ...(request.headers ?? {}) };
    if (headers['if-match'] === CURRENT_ETAG) headers['if-match'] = await this.currentEtag(request.path);
    return this.send(operation, { ...request, headers });
  }

  /** Sends a write (generated or not) and checks that, if rejected, it changed nothing. */
  async send(operation: Operation | undefined, request: FuzzRequest): Promise<FuzzResponse> {
    const before = this.last;
    const response = await this.h.exchange(operation, request);
    absorb(this.world, operation, request.path, response);
    const after = await fingerprint(this.db);
    this.last = after;
    if (response.status >= 200 && response.status < 300) {
      this.accepted++;
    } else {
      this.rejected++;
      if (after !== before) {
        this.h.fail(
          `${operation?.operationId ?? request.method} -> ${response.status}: a rejected write changed the database`,
          request,
          {
            ...response,
            text: `${response.text}\nbefore: ${before}\nafter:  ${after}`,
          },
        );
      }
    }
    return response;
  }

  /**
   * Reads the change feed from `since` to its end: it must hold exactly the revisions
   * written since then (none from rejected writes), in increasing seq.
   */
  async checkFeed(since: string, revisionsBefore: number): Promise<string> {
    const list = this.contract.operation('listChanges');
    let cursor = since;
    let seen = 0;
    let lastSeq = Number(since);
    for (;;) {
      const request: FuzzRequest = { method: 'GET', path: '/v1/changes', query: `since=${cursor}&limit=1000` };
      const response = await this.h.exchange(list, request);
      if (response.status !== 200)
        throw new Error(`the change feed answered ${response.status}: ${response.text.slice(0, 300)}`);
      const page = JSON.parse(response.text) as { data: { seq: number }[]; next_cursor: string };
      for (const change of page.data) {
        if (change.seq <= lastSeq) this.h.fail('listChanges: the feed is not in increasing seq', request, response);
        lastSeq = change.seq;
      }
      seen += page.data.length;
      if (page.data.length === 0) break;
      cursor = page.next_cursor;
    }
    const written = (await revisionCount(this.db)) - revisionsBefore;
    if (seen !== written) {
      this.h.fail(
        `listChanges: the feed lists ${seen} change(s) where ${written} revision(s) were written`,
        { method: 'GET', path: '/v1/changes', query: `since=${since}` },
        { status: 200, headers: {}, text: '' },
      );
    }
    return cursor;
  }

  /** The feed's cursor now, and the number of revisions behind it. */
  async feedPosition(): Promise<{ cursor: string; revisions: number }> {
    const revisions = await revisionCount(this.db);
    const result = await this.db.pool.query<{ seq: string | null }>('SELECT max(id)::text AS seq FROM revisions');
    return { cursor: result.rows[0]?.seq ?? '0', revisions };
  }
}
