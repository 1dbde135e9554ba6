// The state of one write transaction: who writes, and the actor and document
// references already resolved, so a name used twice in one body resolves once.
import type { Transaction } from '../db/client.js';
import { invalidInput, type Violation } from '../http/errors.js';
import { findOrCreateActor, normaliseName } from './actors/repository.js';
import type { ActorRef } from './actors/schemas.js';
import { findOrCreateDocument } from './documents/repository.js';
import type { DocumentRef } from './documents/schemas.js';

/** A reference together with the JSON pointer where the body holds it. */
export type Located<T> = [ref: T, pointer: string];

export class WriteContext {
  private readonly actorIds = new Map<string, string>();

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
      id = (await findOrCreateActor(this.tx, ref, this.author)).actor.id;
      this.actorIds.set(key, id);
    }
    return id;
  }

  async document(ref: DocumentRef | null | undefined): Promise<string | null> {
    if (!ref) return null;
    if ('id' in ref) return ref.id;
    return (await findOrCreateDocument(this.tx, ref, this.author)).document.id;
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
