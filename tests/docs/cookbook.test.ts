// The cookbook is executable: every example of docs/cookbook.md runs in order, in one bash
// session, against a fresh server with the demo data (as the first `npm start` leaves it), and
// each answer is checked against what the page shows (tests/docs/cookbook.ts says how).
// The page's `localhost:3000` becomes the test server's address, and `KEY=cek_...` (the key the
// first start prints) is the admin key of the test database. Commands run in a temporary folder,
// with `npm` pointed at this project, so files the examples write do not land in the checkout.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/modules/events/demo-seed.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { examplesOf, jsonMismatch, textMatches, type Example } from './cookbook.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PAGE = 'docs/cookbook.md';
const examples = examplesOf(readFileSync(path.join(ROOT, PAGE), 'utf8'));
const MARK = '@@cookbook@@';

let t: TestApp;
let work: string;
/** What each example printed, and its exit status. */
let results: { output: string; status: number }[] = [];

beforeAll(async () => {
  t = await startTestApp();
  expect(await seedDemo(t.db)).toBe(7);
  const address = t.app.server.address();
  if (!address || typeof address === 'string') throw new Error('the test server has no port');
  const base = `localhost:${address.port}`;
  work = mkdtempSync(path.join(tmpdir(), 'cookbook-'));
  const script = [
    `npm() { command npm --prefix ${JSON.stringify(ROOT)} --silent "$@"; }`,
    `KEY=${t.keys.admin}`,
    ...examples.flatMap((example) => [
      `echo ${MARK}`,
      // The placeholder line for the key the first start prints: KEY is set above.
      `{ ${example.command.replaceAll('localhost:3000', base).replace(/^KEY=cek_\.\.\..*$/m, ':')}\n} 2>&1`,
      `echo "${MARK} $?"`,
    ]),
  ].join('\n');
  // Not spawnSync: the server answering the examples runs in this process.
  const child = spawn('bash', ['-c', script], {
    cwd: work,
    env: { ...process.env, DATABASE_URL: t.databaseUrl, NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
  await new Promise((resolve, reject) => child.on('exit', resolve).on('error', reject));
  clearTimeout(timer);
  const parts = stdout.split(`${MARK}\n`).slice(1);
  results = parts.map((part) => {
    const end = part.lastIndexOf(`${MARK} `);
    return {
      output: part.slice(0, end).replaceAll(base, 'localhost:3000'),
      status: Number(part.slice(end + MARK.length + 1).trim()),
    };
  });
}, 300_000);

afterAll(async () => {
  await t?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe(`${PAGE}, run in order`, () => {
  it('has examples, and every one of them ran', () => {
    expect(examples.length).toBeGreaterThan(20);
    expect(results).toHaveLength(examples.length);
  });

  it.each(
    examples.map(
      (example, index) => [`line ${example.line}: ${example.command.split('\n')[0]!.slice(0, 70)}`, index] as const,
    ),
  )('%s', (_name, index) => {
    const example: Example = examples[index]!;
    const { output, status } = results[index]!;
    const where = `${PAGE}:${example.line}\n$ ${example.command}\n--- printed:\n${output}`;
    expect(status, where).toBe(0);
    if (!example.shown) {
      expect(output, `${where}\n(the page shows no output for it, so it must print nothing)`).toBe('');
      return;
    }
    expect(output.trim(), where).not.toBe('');
    if (example.shown.kind === 'text') {
      expect(textMatches(example.shown.text, output), `${where}\n--- the page shows:\n${example.shown.text}`).toBe(
        true,
      );
      return;
    }
    let actual: unknown;
    try {
      actual = JSON.parse(output);
    } catch {
      throw new Error(`${where}\n--- is not JSON`);
    }
    expect(jsonMismatch(JSON.parse(example.shown.text), actual), where).toBeNull();
  });
});
