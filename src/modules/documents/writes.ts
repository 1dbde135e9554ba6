// Document writes, inside a write's unit of work: resolving a reference (find or create).
import type { UnitOfWork } from '../../write/unit.js';
import { findOrCreateDocument } from './repository.js';
import type { DocumentRef } from './schemas.js';

/** The id of the document a reference names: none, given, or found by URL or created. */
export async function resolveDocument(unit: UnitOfWork, ref: DocumentRef | null | undefined): Promise<string | null> {
  if (!ref) return null;
  if ('id' in ref) return ref.id;
  const found = await findOrCreateDocument(unit.tx, ref, unit.author);
  if (found.created) unit.changed('document', found.document.id, 'created');
  return found.document.id;
}
