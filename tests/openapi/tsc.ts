// tsc on a generated project, shared by the client-type checks. A module of its own: client-types.ts,
// run as a script, imports generators.ts, and an import back into a script that is still running
// its top-level await never settles (node exits 13).
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
/** Runs tsc on the project in `folder`: exit code 0 and no output, or its code and diagnostics. */
export async function runTsc(folder: string): Promise<{ code: number; output: string }> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', folder, '--pretty', 'false'], {
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, output: '' };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}
