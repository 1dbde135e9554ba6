// Generates the Prisma client (src/generated/prisma), run by `npm install`.
// Prisma's CLI tries to download its native schema engine before every command;
// generation itself runs on wasm, so where no engine is installed (an offline
// machine) we point PRISMA_SCHEMA_ENGINE_BINARY at an existing file to skip the
// download. Where a real engine is present, or the variable is already set,
// nothing is overridden. This build script is not the service, so it reads the
// environment directly.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
let prismaCli;
try {
  prismaCli = require.resolve('prisma/build/index.js');
} catch {
  console.log(
    'prisma-generate: the prisma CLI is not installed (production install); keeping the generated client as built.',
  );
  process.exit(0);
}

const env = { ...process.env };
function hasNativeEngine() {
  try {
    const enginesDir = path.dirname(require.resolve('@prisma/engines/package.json'));
    return existsSync(enginesDir) && readdirSync(enginesDir).some((name) => name.startsWith('schema-engine'));
  } catch {
    return false;
  }
}
if (!hasNativeEngine() && !env.PRISMA_SCHEMA_ENGINE_BINARY) env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;

const result = spawnSync(process.execPath, [prismaCli, 'generate'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
