// What every resource module receives from buildApp: passed explicitly, no container.
import type { Database } from '../db/client.js';
import type { SlowClientLimits } from '../http/admission.js';
import type { StreamSettings } from './changes/live.js';

export interface ModuleDeps {
  db: Database;
  /** Base URL for absolute links (Location, Link) when the service sits behind a proxy. */
  publicUrl?: string;
  /** When an export's client reads too slowly to keep its slot (EXPORT_MIN_BYTES_PER_SECOND, EXPORT_SLOW_WINDOW_MS). */
  exportClients?: SlowClientLimits;
  /** The live change stream's bounds, heartbeat and retry hint (CHANGE_STREAM_*); DEFAULT_STREAM_SETTINGS without. */
  changeStream?: Partial<StreamSettings>;
}

export const DEFAULT_SLOW_CLIENT: SlowClientLimits = { minBytesPerSecond: 16 * 1024, windowMs: 10_000 };
