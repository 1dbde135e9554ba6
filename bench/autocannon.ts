// One load run with autocannon in a separate process (so the load generator's CPU is not the
// measured server's), shared by bench/run.ts and bench/fields.ts.
import { execFileSync } from 'node:child_process';

export interface Load {
  /** Requests a second, on average over the run. */
  rps: number;
  p50: number;
  p99: number;
  /** Connection errors and timeouts. */
  errors: number;
  non2xx: number;
  requests: number;
}

/** Loads `url` with `connections` connections for `seconds`; blocks until autocannon ends. */
export function autocannon(url: string, connections: number, seconds: number): Load {
  const out = execFileSync(
    process.execPath,
    ['node_modules/autocannon/autocannon.js', '-j', '-c', String(connections), '-d', String(seconds), url],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const result = JSON.parse(out) as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    errors: number;
    timeouts: number;
    non2xx: number;
  };
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    requests: result.requests.total,
  };
}
