// npm run docs:check [-- --chromium PATH] [--screenshot FILE]
// Proves that /docs renders in a real browser: starts the service on a temporary database,
// loads /docs in headless Chromium (Debian's package; puppeteer-core downloads nothing) and
// fails unless the page shows the API's title and every operation of /openapi.json, one
// operation opens to its parameters, and the browser saw no error, no blocked script or
// style (CSP), no failed request and no request to another origin.
// CI runs it after the tests (.ci/run installs chromium), so `npm test` needs no browser.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import puppeteer, { type Browser } from 'puppeteer-core';
import { buildApp } from '../src/app.js';
import { connectDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { createTemporaryDatabase } from './temp-database.js';

const TIMEOUT_MS = 30_000;
/** An operation opened in the page, and a parameter its panel must then show. */
const PROBE = { operationId: 'listEvents', tag: 'events', parameter: 'occurred_from' };

const { values } = parseArgs({
  options: { chromium: { type: 'string', default: '/usr/bin/chromium' }, screenshot: { type: 'string' } },
});
const chromium = values.chromium;
if (!existsSync(chromium)) {
  console.error(
    `docs:check: no Chromium at ${chromium}. Install Debian's: apt-get install -y --no-install-recommends chromium`,
  );
  process.exit(2);
}

/** What the callbacks run in the page use of the browser (the project is typed without the DOM library). */
interface InBrowser {
  document: {
    querySelector(selector: string): PageNode | null;
    querySelectorAll(selector: string): Iterable<PageNode>;
    addEventListener(
      type: 'securitypolicyviolation',
      listener: (event: { blockedURI: string; violatedDirective: string }) => void,
    ): void;
  };
}
interface PageNode {
  textContent: string | null;
  getAttribute(name: string): string | null;
}

interface Operation {
  summary: string;
  tags: string[];
}
interface OpenApiDocument {
  info: { title: string };
  paths: Record<string, Record<string, { summary?: string; tags?: string[] }>>;
}

const database = await createTemporaryDatabase('docs');
await runMigrations(database.url);
const db = connectDatabase(database.url, 2);
const app = await buildApp({ db });
let browser: Browser | undefined;
const problems: string[] = [];
try {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('the service has no TCP address');
  const origin = `http://127.0.0.1:${address.port}`;

  const openapi = await app.inject({ url: '/openapi.json' }).then((response) => response.json<OpenApiDocument>());
  const operations: Operation[] = Object.values(openapi.paths).flatMap((item) =>
    Object.values(item).map((operation) => ({ summary: operation.summary ?? '', tags: operation.tags ?? ['default'] })),
  );

  browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ['--no-sandbox'],
    timeout: TIMEOUT_MS,
  });
  const page = await browser.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  let requests = 0;
  // Nothing may leave the service: a request elsewhere is refused (as offline) and reported.
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    requests += 1;
    const url = request.url();
    if (url.startsWith(`${origin}/`) || url.startsWith('data:')) return void request.continue();
    problems.push(`request to another origin: ${url}`);
    void request.abort();
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${response.status()} for ${response.url()}`);
  });
  page.on('requestfailed', (request) => {
    if (request.url().startsWith(`${origin}/`))
      problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`);
  });
  page.on('pageerror', (error) =>
    problems.push(`script error: ${error instanceof Error ? error.message : String(error)}`),
  );
  // CSP refusals and script errors reach the console as errors; warnings are reported too.
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warn')
      problems.push(`console ${message.type()}: ${message.text()}`);
  });
  await page.evaluateOnNewDocument(() => {
    const { document } = globalThis as unknown as InBrowser;
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP blocked ${event.blockedURI || 'inline code'} (${event.violatedDirective})`);
    });
  });

  const started = Date.now();
  await page.goto(`${origin}/docs`, { waitUntil: 'networkidle0' });
  await page.waitForSelector('.opblock-summary-description');
  const rendered = await page.evaluate(() => {
    const { document } = globalThis as unknown as InBrowser;
    return {
      title: document.querySelector('.info .title')?.textContent ?? '',
      summaries: [...document.querySelectorAll('.opblock .opblock-summary-description')].map(
        (node) => node.textContent?.trim() ?? '',
      ),
      tags: [...document.querySelectorAll('.opblock-tag')].map((node) => node.getAttribute('data-tag') ?? ''),
    };
  });
  const renderMs = Date.now() - started;

  if (!rendered.title.includes(openapi.info.title))
    problems.push(`title "${rendered.title}" lacks "${openapi.info.title}"`);
  const expected = operations.flatMap((operation) => operation.tags.map(() => operation.summary)).sort();
  const missing = expected.filter((summary) => !rendered.summaries.includes(summary));
  if (missing.length > 0) problems.push(`operations not shown: ${missing.join(' | ')}`);
  if (rendered.summaries.length !== expected.length) {
    problems.push(`${rendered.summaries.length} operation blocks shown, the document has ${expected.length}`);
  }
  const tags = [...new Set(operations.flatMap((operation) => operation.tags))];
  const absentTags = tags.filter((tag) => !rendered.tags.includes(tag));
  if (absentTags.length > 0) problems.push(`tags not shown: ${absentTags.join(', ')}`);
  if (!rendered.summaries.includes('List, filter and export events'))
    problems.push('the events list operation is not shown');

  // Open one operation: its panel must list the parameters from the document.
  const block = `#operations-${PROBE.tag}-${PROBE.operationId}`;
  await page.click(`${block} .opblock-summary`);
  const parameters = await page
    .waitForFunction(
      (selector, name) =>
        [
          ...(globalThis as unknown as InBrowser).document.querySelectorAll(`${selector} .parameters .parameter__name`),
        ].some((node) => node.textContent?.trim().startsWith(name)),
      {},
      block,
      PROBE.parameter,
    )
    .then(
      () => true,
      () => false,
    );
  if (!parameters) problems.push(`${PROBE.operationId} opened without its "${PROBE.parameter}" parameter`);
  if (values.screenshot) await page.screenshot({ path: values.screenshot, fullPage: false });

  console.log(
    `docs:check: /docs rendered "${rendered.title.trim()}" with ${rendered.summaries.length} operation(s) under ${rendered.tags.length} tag(s) ` +
      `in ${renderMs} ms, ${requests} request(s), all to the service`,
  );
} catch (error) {
  problems.push(`check aborted: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await browser?.close();
  await app.close();
  await db.close();
  await database.drop();
}

if (problems.length > 0) {
  console.error(`docs:check failed:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log('docs:check: no errors, no blocked resources, no failed requests');
