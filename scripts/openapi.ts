// npm run openapi        writes openapi/openapi.json from the code
// npm run openapi:check  fails when the committed file differs from what the code generates (CI)
import { readFile, writeFile } from 'node:fs/promises';
import { renderOpenApi } from '../src/openapi/document.js';

const FILE = new URL('../openapi/openapi.json', import.meta.url);
const generated = await renderOpenApi();

if (process.argv.includes('--check')) {
  const committed = await readFile(FILE, 'utf8').catch(() => '');
  if (committed !== generated) {
    console.error('openapi/openapi.json is out of date with the code: run `npm run openapi` and commit the result.');
    process.exit(1);
  }
  console.log('openapi/openapi.json matches the code.');
} else {
  await writeFile(FILE, generated);
  console.log(`Wrote ${FILE.pathname}`);
}
