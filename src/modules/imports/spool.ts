// The body of POST /v1/imports, written to a temporary file as it arrives, before anything
// is imported: no connection and no transaction wait on the client, however slowly it sends.
// The size limit holds while it arrives; an upload that sends nothing for `idleMs` is cut.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ApiError } from '../../http/errors.js';

export interface Spooled {
  /** The file holding the body. */
  file: string;
  bytes: number;
  /** Deletes the file (and its folder); safe to call twice. */
  remove(): Promise<void>;
}

export interface SpoolOptions {
  maxBytes: number;
  /** An upload that sends no byte for this long fails with a 408. */
  idleMs: number;
  /** The folder for the file (IMPORT_SPOOL_DIR); the system's temporary folder by default. */
  dir?: string | undefined;
}

export const tooLarge = (max: number) =>
  new ApiError('payload-too-large', `An import body may be at most ${max} bytes; split the file.`);

/**
 * Writes `source` to a new temporary file. Rejects with a 413 ApiError past `maxBytes` (the rest
 * of the body is read and dropped, so the answer can still be sent), with a 408 ApiError when no
 * byte came for `idleMs`, and with the source's error when the client goes away.
 */
export async function spoolBody(source: Readable, options: SpoolOptions): Promise<Spooled> {
  const folder = await mkdtemp(path.join(options.dir ?? tmpdir(), 'import-'));
  const file = path.join(folder, 'body.ndjson');
  const remove = () => rm(folder, { recursive: true, force: true });
  const out = createWriteStream(file);
  let bytes = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      let idle: NodeJS.Timeout | undefined;
      const armIdle = () => {
        clearTimeout(idle);
        idle = setTimeout(() => {
          const seconds = options.idleMs / 1000;
          fail(
            new ApiError(
              'request-timeout',
              `No bytes of the body arrived for ${seconds} s; the upload was stopped and nothing was imported.`,
            ),
          );
        }, options.idleMs);
      };
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(idle);
        source.off('data', onData);
        // The rest of the body is read and dropped: the answer goes out on a connection that still works.
        if (!source.destroyed) source.resume();
        out.destroy();
        reject(error);
      };
      const onData = (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > options.maxBytes) return fail(tooLarge(options.maxBytes));
        armIdle();
        if (!out.write(chunk)) {
          // The disk is slower than the client for a moment: its wait is not the client's idleness.
          clearTimeout(idle);
          source.pause();
          out.once('drain', () => {
            if (settled) return;
            armIdle();
            source.resume();
          });
        }
      };
      source.on('data', onData);
      source.once('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(idle);
        out.once('error', reject);
        out.end(() => resolve());
      });
      source.once('error', fail);
      source.once('close', () => {
        if (!source.readableEnded) fail(new Error('the client closed the connection before the body ended'));
      });
      out.once('error', fail);
      armIdle();
    });
  } catch (error) {
    await remove();
    throw error;
  }
  return { file, bytes, remove };
}
