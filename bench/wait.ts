// Waiting for a server the benchmark scripts started (bench/run.ts, bench/soak.ts).

/**
 * Polls `url` every 250 ms until it answers 2xx; fails after `seconds`, or at once when
 * `exited` reports why the process behind it ended. Each poll asks for `Connection: close`,
 * so no idle pooled socket is left behind for a later request to reuse after the server closed it.
 */
export async function waitUntilAnswering(
  url: string,
  seconds: number,
  exited?: () => string | null | undefined,
): Promise<void> {
  for (let waited = 0; waited < seconds * 1000; waited += 250) {
    const exit = exited?.();
    if (exit) throw new Error(`${url}: the process ended before answering (${exit})`);
    try {
      if ((await fetch(url, { headers: { connection: 'close' } })).ok) return;
    } catch {
      // not yet listening
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} did not answer within ${seconds} s`);
}
