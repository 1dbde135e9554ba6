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
    const missing: Violation[] = [];
    const actorIds = actors.flatMap(([ref, pointer]) => ('id' in ref ? [[ref.id, pointer] as const] : []));
    const documentIds = documents.flatMap(([ref, pointer]) => (ref && 'id' in ref ? [[ref.id, pointer] as const] : []));
    if (actorIds.length > 0) {
      const found = await this.tx.actor.findMany({ where: { id: { in: actorIds.map(([id]) => id) } }, select: { id: true } });
      const known = new Set(found.map((row) => row.id));
      for (const [id, pointer] of actorIds)
        if (!known.has(id)) missing.push({ path: `${pointer}/id`, message: `no actor has the id ${id}`, in: 'body' });
    }
    if (documentIds.length > 0) {
      const found = await this.tx.document.findMany({ where: { id: { in: documentIds.map(([id]) => id) } }, select: { id: true } });
      const known = new Set(found.map((row) => row.id));
      for (const [id, pointer] of documentIds)
        if (!known.has(id)) missing.push({ path: `${pointer}/id`, message: `no document has the id ${id}`, in: 'body' });
    }
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
