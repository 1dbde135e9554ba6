// Clients generated from openapi/openapi.json by two more generators than openapi-typescript
// (client-types.ts): @hey-api/openapi-ts (fetch client, SDK, zod validators) and orval (fetch
// client through orval-fetch.ts). Both run offline from the local document. They write into
// tests/openapi/generated/ (git-ignored); `npm run openapi:client` makes them with the rest.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@hey-api/openapi-ts';
import { generate } from 'orval';
import { runTsc } from './tsc.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const HEY_API_FOLDER = join(ROOT, 'tests/openapi/generated/hey-api');
export const ORVAL_FILE = join(ROOT, 'tests/openapi/generated/orval/api.ts');
export const HEY_API_SCENARIO = join(ROOT, 'tests/openapi/hey-api-scenario.ts');
export const ORVAL_SCENARIO = join(ROOT, 'tests/openapi/orval-scenario.ts');

/**
 * @hey-api/openapi-ts: the fetch client, the types, zod schemas, and the SDK validating every
 * response with them. Not the requests: its request validator reads header parameters off the
 * merged Headers object, where `if-match` is never a property, so it refuses every PATCH.
 */
export async function generateHeyApi(document: string, folder = HEY_API_FOLDER): Promise<void> {
  await rm(folder, { recursive: true, force: true });
  await createClient({
    input: document,
    output: folder,
    logs: { level: 'silent' },
    plugins: [
      '@hey-api/client-fetch',
      '@hey-api/typescript',
      'zod',
      { name: '@hey-api/sdk', validator: { request: false, response: true } },
    ],
  });
}

/** orval: one file of fetch functions, header parameters included, calling orval-fetch.ts. */
export async function generateOrval(document: string, file = ORVAL_FILE): Promise<void> {
  await rm(join(file, '..'), { recursive: true, force: true });
  await generate({
    input: { target: document },
    output: {
      target: file,
      client: 'fetch',
      mode: 'single',
      headers: true,
      override: { mutator: { path: join(ROOT, 'tests/openapi/orval-fetch.ts'), name: 'orvalFetch' } },
    },
  });
}

export async function generateClients(document: string): Promise<void> {
  await generateHeyApi(document);
  await generateOrval(document);
}

/**
 * Compiles `files` (and what they import) with the project's compiler options, or with a
 * bundler's module resolution as a dashboard built with one has it. Returns tsc's exit code and
 * its diagnostics. The tsconfig is written under node_modules/.cache, where typecheck never looks.
 */
export async function compile(
  files: string[],
  resolution: 'node' | 'bundler',
): Promise<{ code: number; output: string }> {
  const cache = join(ROOT, 'node_modules/.cache');
  await mkdir(cache, { recursive: true });
  const folder = await mkdtemp(join(cache, 'openapi-generators-'));
  try {
    const project = (await import(join(ROOT, 'tsconfig.json'), { with: { type: 'json' } })).default as {
      compilerOptions: object;
    };
    const bundler = resolution === 'bundler' ? { module: 'ESNext', moduleResolution: 'Bundler' } : {};
    const tsconfig = {
      compilerOptions: {
        ...project.compilerOptions,
        ...bundler,
        lib: ['ES2023', 'DOM', 'DOM.Iterable'],
        types: [],
        noEmit: true,
        rootDir: ROOT,
        sourceMap: false,
      },
      files,
    };
    await writeFile(join(folder, 'tsconfig.json'), JSON.stringify(tsconfig));
    return await runTsc(folder);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
