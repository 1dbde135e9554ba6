// TypeScript types for a client of the API, generated from an OpenAPI document with
// openapi-typescript, and a check that tests/openapi/client-scenario.ts compiles against them.
//   npm run openapi:client   writes tests/openapi/generated/api.d.ts (git-ignored) from openapi/openapi.json, and the
//   clients of generators.ts
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import { runTsc } from './tsc.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DOCUMENT = join(ROOT, 'openapi/openapi.json');
export const GENERATED = join(ROOT, 'tests/openapi/generated/api.d.ts');
const SCENARIO = join(ROOT, 'tests/openapi/client-scenario.ts');

/**
 * The types of a document. defaultNonNullable is off: request-body components carry their
 * defaults (`tags: []`), and with it on openapi-typescript would make a client send them.
 */
export async function clientTypes(document: object | string): Promise<string> {
  const source = typeof document === 'string' ? pathToFileURL(document) : (document as Parameters<typeof openapiTS>[0]);
  return astToString(await openapiTS(source, { defaultNonNullable: false, silent: true }));
}

export async function writeClientTypes(document: object | string = DOCUMENT, file = GENERATED): Promise<void> {
  const types = await clientTypes(document);
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, types);
}

/**
 * Compiles the scenario against `types` with the project's compiler options, in a folder of its
 * own under node_modules/.cache (so packages resolve as from the project, and nothing lands
 * where `npm run typecheck` looks). Its globals are a browser's, as a dashboard's are: the
 * scenario needs only fetch's types, and the DOM's load in half the time of @types/node's.
 * Returns tsc's exit code and its diagnostics.
 */
export async function compileScenario(types: string): Promise<{ code: number; output: string }> {
  const cache = join(ROOT, 'node_modules/.cache');
  await mkdir(cache, { recursive: true });
  const folder = await mkdtemp(join(cache, 'openapi-client-'));
  try {
    await mkdir(join(folder, 'generated'));
    await writeFile(join(folder, 'generated/api.d.ts'), types);
    await copyFile(SCENARIO, join(folder, 'client-scenario.ts'));
    const project = JSON.parse(await readFile(join(ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions: object };
    const tsconfig = {
      compilerOptions: {
        ...project.compilerOptions,
        lib: ['ES2023', 'DOM'],
        types: [],
        noEmit: true,
        rootDir: '.',
        outDir: undefined,
        sourceMap: false,
      },
      files: ['client-scenario.ts'],
    };
    await writeFile(join(folder, 'tsconfig.json'), JSON.stringify(tsconfig));
    return await runTsc(folder);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await writeClientTypes();
  // The clients of @hey-api/openapi-ts and orval too, for the scenarios of generators.test.ts.
  const { generateClients } = await import('./generators.js');
  await generateClients(DOCUMENT);
  console.log(`Wrote ${GENERATED}, and the hey-api and orval clients beside it`);
}
