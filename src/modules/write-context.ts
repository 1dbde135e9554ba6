// The state of one write transaction: who writes, the actor and document
// references already resolved (so a name used twice in one body resolves once),
// and every resource the transaction changed. finish() then does what every write
// owes: new versions, the events' derived columns, and the revisions.
import type { Transaction } from '../db/client.js';
import { recordRevisions, type Action, type ChangeSet, type Resource } from './changes/record.js';
import { refreshEvents } from './events/refresh.js';
import { refreshDailyStats } from './stats/derive.js';
import { invalidInput, type Violation } from '../http/errors.js';
import { findOrCreateActor, normaliseName } from './actors/repository.js';
import type { ActorRef } from './actors/schemas.js';
import { findOrCreateDocument } from './documents/repository.js';
import type { DocumentRef } from './documents/schemas.js';

/** A reference together with the JSON pointer where the body holds it. */
export type Located<T> = [ref: T, pointer: string];

const TABLES: Record<Resource, string> = { event: 'events', report: 'reports', actor: 'actors', document: 'documents' };

export class WriteContext {
  private readonly actorIds = new Map<string, string>();
  private readonly changes = new Map<string, { resource: Resource; id: string; action: Action }>();
  private finished = false;
  /** Deleted events whose stored JSON shows something that changed (a renamed actor), without a new version. */
  private readonly rerendered = new Set<string>();

  constructor(
    readonly tx: Transaction,
    readonly author: string,
  ) {}

  /**
   * Checks every by-id reference of a body in two queries, before anything is
   * written, and throws one 400 naming each unknown id where it was written.
   */
  async verifyReferences(actors: Located<ActorRef>[], documents: Located<DocumentRef | null | undefined>[]): Promise<void> {
    const byId = (refs: Located<ActorRef | DocumentRef | null | undefined>[]) =>
      refs.flatMap(([ref, pointer]): [string, string][] => (ref && 'id' in ref ? [[ref.id, `${pointer}/id`]] : []));
    const missing = [
      ...(await unknownIds(byId(actors), 'actor', (ids) => this.tx.actor.findMany({ where: { id: { in: ids } }, select: { id: true } }))),
      ...(await unknownIds(byId(documents), 'document', (ids) =>
        this.tx.document.findMany({ where: { id: { in: ids } }, select: { id: true } }),
      )),
    ];
    if (missing.length > 0) throw invalidInput(missing, 'The body references actors or documents that do not exist.');
  }

  async actor(ref: ActorRef): Promise<string> {
    if ('id' in ref) return ref.id;
    const key = `${ref.kind}\u0000${normaliseName(ref.name)}`;
    let id = this.actorIds.get(key);
    if (!id) {
      const found = await findOrCreateActor(this.tx, ref, this.author);
      id = found.actor.id;
      if (found.created) this.changed('actor', id, 'created');
      this.actorIds.set(key, id);
    }
    return id;
  }

  async document(ref: DocumentRef | null | undefined): Promise<string | null> {
    if (!ref) return null;
    if ('id' in ref) return ref.id;
    const found = await findOrCreateDocument(this.tx, ref, this.author);
    if (found.created) this.changed('document', found.document.id, 'created');
    return found.document.id;
  }

  /**
   * Notes that this transaction created, updated or deleted a resource. A resource
   * counts once per transaction: created stays created, deleted outweighs updated.
   * Writers change rows but never versions: finish() gives each changed resource its next one.
   */
  changed(resource: Resource, id: string, action: Action): void {
    const key = `${resource}/${id}`;
    const previous = this.changes.get(key)?.action;
    if (previous === 'created' || previous === 'deleted') return;
    if (previous === 'updated' && action === 'created') return;
    this.changes.set(key, { resource, id, action });
  }

  get hasChanges(): boolean {
    return this.changes.size > 0 || this.rerendered.size > 0;
  }

  /**
   * Notes that a deleted event shows a record this transaction changed: its history is closed,
   * so it gets no new version or revision, but finish() renders its stored JSON again.
   */
  rerender(eventId: string): void {
    this.rerendered.add(eventId);
  }

  /** Whether finish() has run: the write runner refuses to commit changes that skipped it. */
  get isFinished(): boolean {
    return this.finished;
  }

  /**
   * Ends the writes of the transaction: bumps the version of every updated or deleted
   * resource, re-derives the changed events' status, search vector, JSON and stats rows,
   * writes the revisions (which takes the feed's lock, so no resource may change after it)
   * and recounts the daily stats rollups under that lock.
   */
  async finish(): Promise<void> {
    if (this.finished) throw new Error('WriteContext.finish() called twice');
    this.finished = true;
    if (this.changes.size === 0 && this.rerendered.size === 0) return;
    const byResource: ChangeSet = new Map();
    for (const change of this.changes.values()) {
      const list = byResource.get(change.resource) ?? [];
      list.push({ id: change.id, action: change.action });
      byResource.set(change.resource, list);
    }
    for (const [resource, changes] of byResource) {
      const bumped = changes.filter((c) => c.action !== 'created').map((c) => c.id);
      if (bumped.length === 0) continue;
      // clock_timestamp, not the transaction's start: taken once the rows are locked, it grows
      // with each resource's versions, so a revision's time (its updated_at) finds it by ?as_of=.
      await this.tx.$executeRawUnsafe(
        `UPDATE ${TABLES[resource]} SET version = version + 1, updated_at = clock_timestamp(), updated_by = $2 WHERE id = ANY($1::uuid[])`,
        bumped,
        this.author,
      );
    }
    const events = [...(byResource.get('event') ?? []).map((c) => c.id), ...this.rerendered];
    const dailyKeys = events.length > 0 ? await refreshEvents(this.tx, events) : undefined;
    await recordRevisions(this.tx, byResource, this.author);
    // After the revisions: the rollups are recounted under the lock recordRevisions took.
    if (dailyKeys) await refreshDailyStats(this.tx, dailyKeys);
  }
}

/**
 * The violations for ids (each with the JSON pointer where the body holds it) that
 * `existing` does not find, named as "no <what> has the id ...". One query for all.
 */
export async function unknownIds(
  located: [id: string, pointer: string][],
  what: string,
  existing: (ids: string[]) => Promise<{ id: string }[]>,
): Promise<Violation[]> {
  if (located.length === 0) return [];
  const known = new Set((await existing(located.map(([id]) => id))).map((row) => row.id));
  return located.flatMap(([id, path]) => (known.has(id) ? [] : [{ path, message: `no ${what} has the id ${id}`, in: 'body' as const }]));
}
