// A newcomer's first commands beside a running service (issue 17): the command-line tools use the
// embedded PostgreSQL that `npm start` runs instead of starting another on the same data; a second
// `npm start` says where the first one serves; a taken port is named as the cause; and the first
// start on an empty DATABASE_URL database prints an admin key and how to load the demo data.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/db/embedded.js';
import { runProcess, STACK_FRAME, startService } from './helpers/service-process.js';
import { startTestApp } from './helpers/test-app.js';

const folders: string[] = [];
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

async function embeddedEnv(): Promise<NodeJS.ProcessEnv> {
  const folder = await mkdtemp(path.join(tmpdir(), 'conflict-events-newcomer-'));
  folders.push(folder);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(await freePort()),
    EMBEDDED_PG_PORT: String(await freePort()),
    EMBEDDED_PG_DIR: path.join(folder, 'pg'),
    LOG_LEVEL: 'warn',
  };
  delete env.DATABASE_URL;
  return env;
}

const SAMPLE = new URL('./fixtures/acled-sample.csv', import.meta.url).pathname;

describe('beside `npm start` on the embedded database', () => {
  it('keys and import use the running server; a second start names the running one and exits 1 without a stack trace', async () => {
    const env = await embeddedEnv();
    const service = await startService(env);
    try {
      const created = await runProcess('src/cli/keys.ts', ['create', '--name', 'newcomer', '--role', 'editor'], env);
      expect(created.code, created.stderr).toBe(0);
      const key = created.stdout.trim().split('\n').at(-1)!;
      expect(key).toMatch(/^cek_/);
      // The key was made in the running service's database: the service accepts it at once.
      const write = await fetch(`${service.base}/v1/actors`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ name: 'Made beside the service', kind: 'other' }),
      });
      expect(write.status).toBe(201);
      // A taken name is refused in one line, with no key made.
      const again = await runProcess('src/cli/keys.ts', ['create', '--name', 'newcomer', '--role', 'editor'], env);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('a key named "newcomer" exists already');
      expect(again.stdout).not.toMatch(/cek_/);

      const imported = await runProcess('scripts/import.ts', ['--format', 'acled', SAMPLE], env);
      expect(imported.code, imported.stderr).toBe(0);
      expect(JSON.parse(imported.stdout)).toMatchObject({ accepted: 14, rejected: 0 });
      const found = (await (await fetch(`${service.base}/v1/events?external_id=acled:NGA1001`)).json()) as {
        data: unknown[];
      };
      expect(found.data).toHaveLength(1);

      // The running service's record in its data folder, which the tools and a second start read.
      const record = JSON.parse(await readFile(path.join(env.EMBEDDED_PG_DIR!, 'instance.json'), 'utf8'));
      expect(record).toMatchObject({
        service: true,
        url: service.base,
        postgres: { port: Number(env.EMBEDDED_PG_PORT) },
      });

      // A second start, on the same port or on another one for PostgreSQL, is told where the first serves.
      for (const pgPort of [env.EMBEDDED_PG_PORT!, String(await freePort())]) {
        const second = await runProcess('src/server.ts', [], {
          ...env,
          PORT: String(await freePort()),
          EMBEDDED_PG_PORT: pgPort,
        });
        expect(second.code).toBe(1);
        expect(second.stderr).toContain(`already running at ${service.base}`);
        expect(second.stderr).not.toMatch(STACK_FRAME);
      }
      // The tools left the service's server running: it still answers.
      expect((await fetch(`${service.base}/readyz`)).status).toBe(200);
    } finally {
      expect(await service.stop()).toBe(0);
    }
    // The stopped service removed its record, and PostgreSQL its lock.
    await expect(readFile(path.join(env.EMBEDDED_PG_DIR!, 'instance.json'))).rejects.toThrow(/ENOENT/);
    await expect(readFile(path.join(env.EMBEDDED_PG_DIR!, 'postmaster.pid'))).rejects.toThrow(/ENOENT/);
  }, 240_000);

  it('reports a PostgreSQL port taken by another program as such, without a stack trace', async () => {
    const env = await embeddedEnv();
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(Number(env.EMBEDDED_PG_PORT), '127.0.0.1', resolve));
    try {
      const run = await runProcess('src/cli/keys.ts', ['list'], env);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`Port ${env.EMBEDDED_PG_PORT} on 127.0.0.1 is taken by another program`);
      expect(run.stderr).not.toMatch(STACK_FRAME);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  }, 60_000);
});

describe('the first start on an empty DATABASE_URL database', () => {
  it('prints an admin key once and the command that loads the demo data', async () => {
    const t = await startTestApp();
    try {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        DATABASE_URL: t.databaseUrl,
        PORT: String(await freePort()),
        LOG_LEVEL: 'warn',
      };
      // startTestApp made keys of its own; an empty database has none.
      await t.db.pool.query('DELETE FROM api_keys');
      const first = await startService(env);
      expect(await first.stop()).toBe(0);
      const key = /^Admin API key \(shown once\): (cek_\S+)$/m.exec(first.output())?.[1];
      expect(key).toBeDefined();
      expect(first.output()).toContain('npm run seed:demo');
      const { rows } = await t.db.pool.query<{ name: string; role: string }>('SELECT name, role FROM api_keys');
      expect(rows).toEqual([{ name: 'admin', role: 'admin' }]);
      // The data are the user's own: nothing was loaded.
      expect((await t.db.pool.query('SELECT 1 FROM events')).rowCount).toBe(0);

      const second = await startService(env);
      expect(await second.stop()).toBe(0);
      expect(second.output()).not.toContain('Admin API key');
    } finally {
      await t.close();
    }
  }, 120_000);
});
