// How every write runs: one transaction with a unit of work (./unit.ts); the handler's work
// writes through it, then the runner itself runs the finish step (./finish.ts: versions,
// derived columns, revisions, rollups), so no write can skip it. An HTTP write answers with
// a response built inside the transaction after that step, so the response an
// Idempotency-Key stores is the one that committed.
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { limitStatements, type Database, type Transaction } from '../db/client.js';
import { isRetryable } from '../db/errors.js';
import { ApiError, invalidInput } from '../http/errors.js';
import { etagOf } from '../http/etag.js';
import { sendJsonText } from '../http/pagination.js';
import { finish } from './finish.js';
import { UnitOfWork } from './unit.js';

/** A write's answer: status, the headers worth repeating to a retry, and the JSON body as text. */
export interface WriteResponse {
  status: number;
  headers: { location?: string; etag?: string };
  body: string;
}

/** A response carrying one resource's JSON and its version as the ETag. */
export function resourceResponse(
  status: number,
  resource: { json: string; version: number },
  location?: string,
): WriteResponse {
  return {
    status,
    headers: { etag: etagOf(resource.version), ...(location ? { location } : {}) },
    body: resource.json,
  };
}

/** The answer of a write that answers no content (a delete, a withdrawal). */
export const NO_CONTENT: WriteResponse = { status: 204, headers: {}, body: '' };

/** An Idempotency-Key, with the fingerprint of the request it was first sent with. */
export interface IdempotencyClaim {
  key: string;
  principal: string;
  fingerprint: string;
}

/** Keys are kept this long; the issue asks for at least 24 hours. */
export const IDEMPOTENCY_RETENTION_HOURS = 24;

/** Deletes the stored responses of keys past their retention; returns how many. */
export async function purgeExpiredIdempotencyKeys(db: Database): Promise<number> {
  return db.prisma
    .$executeRaw`DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => ${IDEMPOTENCY_RETENTION_HOURS})`;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The request's Idempotency-Key claim, or undefined without the header; 400 for a malformed key. */
export function idempotencyClaim(request: FastifyRequest, principal: string): IdempotencyClaim | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) {
    throw invalidInput([
      { path: '/idempotency-key', in: 'header', message: 'must be 1 to 255 visible ASCII characters, such as a UUID' },
    ]);
  }
  const fingerprint = createHash('sha256')
    .update(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`)
    .digest('hex');
  return { key, principal, fingerprint };
}

/**
 * Claims the key in the write's own transaction. A retry racing the first request
 * blocks on the key's row until that transaction ends: after a commit it gets the
 * stored response, after a rollback it claims the key itself.
 */
async function claim(tx: Transaction, claim: IdempotencyClaim): Promise<WriteResponse | null> {
  await tx.$executeRaw`DELETE FROM idempotency_keys WHERE principal = ${claim.principal} AND key = ${claim.key}
    AND created_at < now() - make_interval(hours => ${IDEMPOTENCY_RETENTION_HOURS})`;
  const claimed = await tx.$queryRaw<unknown[]>`
    INSERT INTO idempotency_keys (key, principal, fingerprint, status, body)
    VALUES (${claim.key}, ${claim.principal}, ${claim.fingerprint}, 0, '')
    ON CONFLICT DO NOTHING RETURNING key`;
  if (claimed.length > 0) return null;
  const [first] = await tx.$queryRaw<
    { fingerprint: string; status: number; headers: WriteResponse['headers']; body: string }[]
  >`
    SELECT fingerprint, status, headers, body FROM idempotency_keys WHERE principal = ${claim.principal} AND key = ${claim.key}`;
  if (!first) throw new Error('idempotency key vanished between its conflict and its read');
  if (first.fingerprint !== claim.fingerprint) {
    throw new ApiError(
      'rule-violation',
      'This Idempotency-Key was first used with another request (method, path or body); use a new key for a new ' +
        'request.',
    );
  }
  return { status: first.status, headers: first.headers, body: first.body };
}

const ATTEMPTS = 3;

/** Options of a write's transaction. */
export interface WriteOptions {
  /** The transaction's timeout, for work larger than one request's (a batch of an import). */
  timeout?: number;
  /** Each statement's timeout: a write's by default (db.timeouts.import for an import batch). */
  statementTimeout?: number;
}

/**
 * Runs `work` in one transaction with a unit of work, then the finish step, then `after` (in the
 * same transaction, with the unit sealed). A deadlock or serialisation failure runs it all again.
 */
async function transact<T, R>(
  db: Database,
  author: string,
  options: WriteOptions,
  work: (unit: UnitOfWork) => Promise<T>,
  after: (tx: Transaction, result: T) => Promise<R>,
): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.prisma.$transaction(
        async (tx) => {
          await limitStatements(tx, db, options.statementTimeout ?? db.timeouts.write);
          const unit = new UnitOfWork(tx, author);
          const result = await work(unit);
          await finish(unit);
          return after(tx, result);
        },
        // Writers queue on row locks and on the revision lock; the defaults (2 s, 5 s) are for short transactions.
        { maxWait: 10_000, timeout: options.timeout ?? 60_000 },
      );
    } catch (error) {
      if (attempt < ATTEMPTS && isRetryable(error)) continue;
      throw error;
    }
  }
}

/** Runs `work` in one write transaction, ends it with the finish step, and returns what `work` returned. */
export async function runWrite<T>(
  db: Database,
  author: string,
  work: (unit: UnitOfWork) => Promise<T>,
  options: WriteOptions = {},
): Promise<T> {
  return transact(db, author, options, work, async (_tx, result) => result);
}

/** The stored response of an Idempotency-Key already used, which ends the write before it writes anything. */
class Replay {
  constructor(readonly response: WriteResponse) {}
}

/**
 * A write answered over HTTP: `work` writes through the unit; after the finish step, `respond`
 * builds the answer from what the transaction now holds (given `work`'s result). With an
 * Idempotency-Key, a repeat of a committed request returns the stored response (`replayed`)
 * and writes nothing.
 */
export async function respondToWrite<T>(
  db: Database,
  options: { author: string; idempotency?: IdempotencyClaim | undefined },
  work: (unit: UnitOfWork) => Promise<T>,
  respond: (tx: Transaction, result: T) => Promise<WriteResponse> | WriteResponse,
): Promise<WriteResponse & { replayed: boolean }> {
  const { idempotency } = options;
  const answer = await transact(
    db,
    options.author,
    {},
    async (unit) => {
      if (idempotency) {
        const first = await claim(unit.tx, idempotency);
        if (first) return new Replay(first);
      }
      return { result: await work(unit) };
    },
    async (tx, outcome) => {
      if (outcome instanceof Replay) return { ...outcome.response, replayed: true };
      const response = await respond(tx, outcome.result);
      if (idempotency) {
        await tx.$executeRaw`UPDATE idempotency_keys SET status = ${response.status},
          headers = ${JSON.stringify(response.headers)}::jsonb, body = ${response.body}
          WHERE principal = ${idempotency.principal} AND key = ${idempotency.key}`;
      }
      return { ...response, replayed: false };
    },
  );
  return answer;
}

/** Sends a write's response: its status, headers and JSON body as stored. */
export function sendWrite(reply: FastifyReply, response: WriteResponse & { replayed: boolean }) {
  for (const [name, value] of Object.entries(response.headers)) if (value) reply.header(name, value);
  if (response.replayed) reply.header('idempotent-replayed', 'true');
  reply.code(response.status);
  return response.status === 204 ? reply.send() : sendJsonText(reply, response.body);
}
