// The Node flags the service runs with, read from `npm start` (package.json): the image's CMD must
// carry the same (scripts/check-container.ts checks it), and the benchmarks start the built service
// with them (bench/run.ts, bench/soak.ts), so what they measure is what runs in production.
// Why each flag: docs/operations.md ("Node flags").
import { readFileSync } from 'node:fs';

const start = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } }
).scripts.start;

/** The flags of `node` in the start script, before its `--import tsx` loader and the entry point. */
export const SERVICE_NODE_FLAGS: string[] = (() => {
  const words = start.split(/\s+/);
  if (words[0] !== 'node') throw new Error(`npm start is "${start}": expected node [flags] --import tsx src/server.ts`);
  const flags: string[] = [];
  for (const word of words.slice(1)) {
    if (word === '--import' || !word.startsWith('--')) break;
    flags.push(word);
  }
  return flags;
})();
