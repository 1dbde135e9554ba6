// The unit of work of one write transaction: who writes, the references it resolved
// (so a name used twice in one body resolves once), and every resource it changed.
// Writers (the modules' writes.ts) change rows and note what they changed here; the
// runner (./run.ts) then hands the unit to the finish step (./finish.ts), which gives
// each changed resource its new version, derived columns and revision. This file sits
// below the modules: it imports none of them.
import type { Transaction } from '../db/client.js';
import { invalidInput, type Violation } from '../http/errors.js';

export const RESOURCES = ['event', 'report', 'actor', 'document'] as const;
export type Resource = (typeof RESOURCES)[number];
export const ACTIONS = ['created', 'updated', 'deleted'] as const;
export type Action = (typeof ACTIONS)[number];

/** The changes of a transaction, by kind of resource. */
export type ChangeSet = Map<Resource, { id: string; action: Action }[]>;

/** A reference together with the JSON pointer where the body holds it. */
export type Located<T> = [ref: T, pointer: string];

/** A reference to an existing resource by id, or to one found or created by another key (a name, a URL). */
type Ref = { id: string } | object | null | undefined;

export class UnitOfWork {
  private readonly resolved = new Map<string, string>();
  private readonly changes = new Map<string, { resource: Resource; id: string; action: Action }>();
  /** Deleted events whose stored JSON shows something that changed (a renamed actor), without a new version. */
  private readonly rerendered = new Set<string>();
  /**
   * Events created with their derived columns (events/writes.ts) and not changed since: the finish step need not derive
   * them.
   */
  private readonly derivedAtInsert = new Set<string>();
  private sealed = false;

  constructor(
    readonly tx: Transaction,
    readonly author: string,
  ) {}

  /**
   * Checks every by-id reference of a body in two queries, before anything is
   * written, and throws one 400 naming each unknown id where it was written.
   */
  async verifyReferences(actors: Located<Ref>[], documents: Located<Ref>[]): Promise<void> {
    const byId = (refs: Located<Ref>[]) =>
      refs.flatMap(([ref, pointer]): [string, string][] => (ref && 'id' in ref ? [[ref.id, `${pointer}/id`]] : []));
    const missing = [
      ...(await unknownIds(byId(actors), 'actor', (ids) =>
        this.tx.actor.findMany({ where: { id: { in: ids } }, select: { id: true } }),
      )),
      ...(await unknownIds(byId(documents), 'document', (ids) =>
        this.tx.document.findMany({ where: { id: { in: ids } }, select: { id: true } }),
      )),
    ];
    if (missing.length > 0) throw invalidInput(missing, 'The body references actors or documents that do not exist.');
  }

  /**
   * The id a reference resolved to earlier in this transaction under `key`, or the one `find`
   * finds or creates now (noted as created when it was). Used by actors' and documents' writes.
   */
  async resolve(
    resource: Resource,
    key: string,
    find: () => Promise<{ id: string; created: boolean }>,
  ): Promise<string> {
    const cacheKey = `${resource}\u0000${key}`;
    let id = this.resolved.get(cacheKey);
    if (!id) {
      const found = await find();
      id = found.id;
      if (found.created) this.changed(resource, id, 'created');
      this.resolved.set(cacheKey, id);
    }
    return id;
  }

  /**
   * Notes that this transaction created, updated or deleted a resource. A resource
   * counts once per transaction: created stays created, deleted outweighs updated.
   * Writers change rows but never versions: the finish step gives each changed resource its next one.
   */
  changed(resource: Resource, id: string, action: Action): void {
    this.assertOpen();
    // Any later change to an event may change what its derived columns show.
    if (resource === 'event') this.derivedAtInsert.delete(id);
    const key = `${resource}/${id}`;
    const previous = this.changes.get(key)?.action;
    if (previous === 'created' || previous === 'deleted') return;
    if (previous === 'updated' && action === 'created') return;
    this.changes.set(key, { resource, id, action });
  }

  /**
   * Notes that a deleted event shows a record this transaction changed: its history is closed,
   * so it gets no new version or revision, but the finish step renders its stored JSON again.
   */
  rerender(eventId: string): void {
    this.assertOpen();
    this.rerendered.add(eventId);
  }

  /**
   * Notes that this transaction created the event with its derived columns already written
   * (after noting it as created): the finish step derives only its stats rows, unless a later
   * change to it is noted.
   */
  insertedDerived(eventId: string): void {
    this.assertOpen();
    if (this.changes.get(`event/${eventId}`)?.action !== 'created')
      throw new Error(`event ${eventId} was not noted as created`);
    this.derivedAtInsert.add(eventId);
  }

  /**
   * The changes noted, by kind of resource, the deleted events to render again and the created
   * events whose derived columns are written already; seals the unit.
   */
  close(): { changes: ChangeSet; rerendered: string[]; derived: string[] } {
    this.assertOpen();
    this.sealed = true;
    const changes: ChangeSet = new Map();
    for (const change of this.changes.values()) {
      const list = changes.get(change.resource) ?? [];
      list.push({ id: change.id, action: change.action });
      changes.set(change.resource, list);
    }
    return { changes, rerendered: [...this.rerendered], derived: [...this.derivedAtInsert] };
  }

  private assertOpen(): void {
    if (this.sealed)
      throw new Error('the unit of work was already finished: a change after it would have no version or revision');
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
  return located.flatMap(([id, path]) =>
    known.has(id) ? [] : [{ path, message: `no ${what} has the id ${id}`, in: 'body' as const }],
  );
}
