// One request of a benchmark's load to a server on this machine (bench/soak.ts, bench/writes.ts).
import http from 'node:http';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * Sends a request to 127.0.0.1:`port` through `agent` (keep-alive, so the load reuses its connections) and
 * reads the whole answer as text; fails when none comes within 30 s.
 */
export function httpRequest(
  port: number,
  agent: http.Agent,
  request: { method: string; path: string; headers: http.OutgoingHttpHeaders; payload?: Buffer | undefined },
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const { method, path, headers, payload } = request;
    const sent = http.request(
      { host: '127.0.0.1', port, method, path, agent, headers, timeout: 30_000 },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    sent.on('timeout', () => sent.destroy(new Error('no answer in 30 s')));
    sent.on('error', reject);
    sent.end(payload);
  });
}
