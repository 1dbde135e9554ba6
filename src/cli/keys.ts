// npm run keys -- create --name NAME --role reader|editor|admin   (prints the new key alone on its last line)
//                 list
//                 revoke --name NAME
// Works on the database of DATABASE_URL, or the embedded one when it is unset (as npm start does).
// It lives in src/ so the build compiles it: where there is no tsx (the container image),
// `node dist/cli/keys.js create ...` runs the same command.
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { connectDatabase } from '../db/client.js';
import { runMigrations } from '../db/migrate.js';
import { locateDatabase } from '../db/open.js';
import { createKey, listKeys, revokeKey, ROLES, toKeyInfo, type Role } from '../modules/keys/repository.js';
import { KeyNameSchema } from '../modules/keys/schemas.js';

const USAGE =
  'usage: npm run keys -- (or node dist/cli/keys.js) create --name NAME --role reader|editor|admin | list | revoke ' +
  '--name NAME';
/** Who a change made from the command line is attributed to. */
const CLI_AUTHOR = 'keys-cli';

/**
 * A refusal after the database was opened: exit 1 once the finally below has closed it (and stopped an embedded
 * server).
 */
function refuse(message: string): void {
  console.error(message);
  process.exitCode = 1;
}

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { name: { type: 'string' }, role: { type: 'string' } },
});
const [command] = positionals;
if (!command || !['create', 'list', 'revoke'].includes(command)) fail(`unknown command ${command ?? '(none)'}`);
if (command !== 'list') {
  if (!values.name) fail('--name is required');
  const name = KeyNameSchema.safeParse(values.name);
  if (!name.success) fail(`--name ${name.error.issues[0]?.message ?? 'is invalid'}`);
}
if (command === 'create' && !ROLES.includes(values.role as Role)) fail(`--role must be one of ${ROLES.join(', ')}`);

const config = loadConfig();
const { url, embedded } = await locateDatabase(config);
const db = connectDatabase(url, 2);
try {
  await runMigrations(url);
  if (command === 'create') {
    const name = values.name!;
    const created = await createKey(db.prisma, name, values.role as Role, CLI_AUTHOR);
    if (!created) refuse(`a key named "${name}" exists already (names are never reused); pick another name`);
    else {
      console.log(
        `Created ${created.row.role} key "${created.row.name}" (${created.row.prefix}...). It is shown once, here:`,
      );
      console.log(created.key);
    }
  } else if (command === 'list') {
    for (const key of (await listKeys(db.prisma)).map(toKeyInfo)) {
      console.log(
        `${key.name}\t${key.role}\t${key.prefix}...\t${key.created_at}\t${key.revoked_at ? `revoked ${key.revoked_at}` : 'live'}`,
      );
    }
  } else {
    if (await revokeKey(db.prisma, values.name!, CLI_AUTHOR)) console.log(`Revoked key "${values.name}".`);
    else refuse(`no live key is named "${values.name}"`);
  }
} finally {
  await db.close();
  await embedded?.stop();
}
