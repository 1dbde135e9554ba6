// What every resource module receives from buildApp: passed explicitly, no container.
import type { Database } from '../db/client.js';

export interface ModuleDeps {
  db: Database;
  /** Base URL for absolute links (Location, Link) when the service sits behind a proxy. */
  publicUrl?: string;
}
