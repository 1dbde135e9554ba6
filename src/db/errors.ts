// What a database error was, read once: from node-postgres directly (its `code` is the
// SQLSTATE) or through Prisma, whose driver adapter keeps PostgreSQL's error as `cause`
// (raw queries) and whose model queries carry Prisma's own P-codes.

/** The PostgreSQL error behind a Prisma error, as the driver adapter keeps it. */
interface DriverCause {
  kind?: unknown;
  originalCode?: unknown;
  originalMessage?: unknown;
}

function driverCause(error: unknown): DriverCause | undefined {
  return (error as { meta?: { driverAdapterError?: { cause?: DriverCause } } } | null)?.meta?.driverAdapterError?.cause;
}

/** The PostgreSQL SQLSTATE of an error (or Prisma's P-code when it has no SQLSTATE). */
export function sqlState(error: unknown): unknown {
  return driverCause(error)?.originalCode ?? (error as { code?: unknown } | null)?.code;
}

/** PostgreSQL's own message for the error, when Prisma's driver adapter kept it. */
export function driverMessage(error: unknown): string {
  const message = driverCause(error)?.originalMessage;
  return typeof message === 'string' ? message : '';
}

/** The driver adapter's name for the kind of error (DatabaseNotReachable, TransactionWriteConflict, ...), or ''. */
export function driverErrorKind(error: unknown): string {
  const kind = driverCause(error)?.kind;
  return typeof kind === 'string' ? kind : '';
}

/** Whether a failed transaction may simply be run again: a deadlock (40P01) or a serialisation failure (40001). */
export function isRetryable(error: unknown): boolean {
  // P2034 is how Prisma names it for model queries; raw queries carry the driver adapter's error instead.
  if ((error as { code?: unknown } | null)?.code === 'P2034') return true;
  const code = sqlState(error);
  return driverErrorKind(error) === 'TransactionWriteConflict' || code === '40P01' || code === '40001';
}

/** 57014: a statement cancelled, by its statement timeout (src/db/client.ts) or an operator's pg_cancel_backend. */
export function isQueryCanceled(error: unknown): boolean {
  return (
    sqlState(error) === '57014' ||
    /canceling statement due to statement timeout/.test((error as Error | null)?.message ?? '')
  );
}

/** A unique constraint refused the row: 23505, or P2002 from a Prisma model query. */
export function isUniqueViolation(error: unknown): boolean {
  const code = sqlState(error);
  return code === '23505' || code === 'P2002';
}
