// event_id_cnty of events that ACLED did not make (docs/acled.md: an ACLED-CSV export of an event
// not imported from ACLED, imported back, finds the same event). The export writes the event's
// own id, or the id it had where it was first exported (external id self, exported.ts);
// the import reads a UUID there as that self id, never as an ACLED id (ACLED's are like NGA12345).
import { SELF_SOURCE } from './exported.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The event_id_cnty the export writes for an event. */
export function acledEventId(event: { id: string; external_ids?: Record<string, string> }): string {
  return event.external_ids?.acled ?? event.external_ids?.[SELF_SOURCE] ?? event.id;
}

/** The external ids the import gives a row's event_id_cnty: a UUID is an event of ours, anything else ACLED's. */
export function externalIdsOfAcledId(eventIdCnty: string): Record<string, string> {
  return UUID.test(eventIdCnty) ? { [SELF_SOURCE]: eventIdCnty.toLowerCase() } : { acled: eventIdCnty };
}
