// Which fuzz file takes each operation of the OpenAPI document, and how many requests it
// generates for it. An operation added to the contract is fuzzed without a change here:
// GETs by reads.test.ts, writes to a collection by creates.test.ts, writes to a record by
// edits.test.ts, each with DEFAULT_RUNS requests.
import { readFileSync } from 'node:fs';
import type { OpenApiDocument } from './contract.js';

export type FuzzFile = 'reads' | 'creates' | 'edits';

/** Requests per operation in one run. */
export const RUNS: Record<string, number> = {
  // reads.test.ts
  listEvents: 700,
  listReports: 250,
  getEvent: 250,
  listActors: 150,
  listDocuments: 150,
  listChanges: 150,
  listEventRevisions: 150,
  listEventReports: 150,
  getReport: 150,
  getActor: 100,
  getDocument: 100,
  listApiKeys: 60,
  listEventTypes: 40,
  getLiveness: 20,
  getReadiness: 20,
  // creates.test.ts
  createEvent: 450,
  createActor: 220,
  createDocument: 220,
  createApiKey: 120,
  revokeApiKey: 80,
  createEventType: 60,
  // edits.test.ts
  createEventReport: 300,
  patchEvent: 250,
  patchReport: 200,
  patchActor: 130,
  createEventRelation: 130,
  deleteEventRelation: 100,
  deleteEvent: 100,
  deleteReport: 100,
  mergeEvent: 100,
};

/** Requests to paths and with methods outside the contract (reads.test.ts). */
export const OUTSIDE_RUNS = 200;
/** Writes sent twice with one Idempotency-Key (creates.test.ts). */
export const REPLAY_RUNS = 40;
/** What the issue asks of one run of the suite. */
export const SUITE_MINIMUM = 5_000;

export const DEFAULT_RUNS = 60;

export function fileOf(method: string, path: string): FuzzFile {
  if (method === 'get') return 'reads';
  // API keys are named, not records with versions: revoking one is with the other key writes.
  return path.includes('{') && !path.startsWith('/v1/api-keys') ? 'edits' : 'creates';
}

/** The operationIds a file fuzzes, from the committed document (tests/openapi.test.ts proves the served one equals it). */
export function operationsOf(file: FuzzFile): string[] {
  const committed = JSON.parse(
    readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8'),
  ) as OpenApiDocument;
  return Object.entries(committed.paths).flatMap(([path, operations]) =>
    Object.entries(operations)
      .filter(([method]) => fileOf(method, path) === file)
      .map(([, operation]) => operation.operationId),
  );
}

export const runsOf = (operationId: string) => RUNS[operationId] ?? DEFAULT_RUNS;

/**
 * The generated requests a file sends: its properties' runs (seeding, the GETs that read a
 * current ETag and the events made to replace deleted ones come on top).
 */
export function plannedRequests(file: FuzzFile): number {
  const extra = file === 'reads' ? OUTSIDE_RUNS : file === 'creates' ? 2 * REPLAY_RUNS : 0;
  return operationsOf(file).reduce((sum, operationId) => sum + runsOf(operationId), extra);
}
