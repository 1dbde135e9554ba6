// A project script run as a user runs it: a child process on a test's database.
import { runProcess, type ProcessRun } from './service-process.js';

export type ScriptRun = ProcessRun;

/** Runs `node --import tsx <script> ...args` with DATABASE_URL set to `databaseUrl`; resolves with its exit code and output. */
export function runScript(script: string, args: string[], databaseUrl: string): Promise<ScriptRun> {
  return runProcess(script, args, { ...process.env, DATABASE_URL: databaseUrl });
}
