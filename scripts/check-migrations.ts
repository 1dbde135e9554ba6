// `npm run db:check` (CI): do the migrations build the database that prisma/schema.prisma describes?
//
// 1. "migrated": a scratch database built from prisma/migrations by runMigrations.
// 2. "model":    a scratch database built from Prisma's diff(empty -> schema.prisma).
// 3. Their structures must agree, except for the hand-written extras listed below,
//    which must exist in "migrated"; anything else there is unexpected.
// 4. "engine":   a scratch database built from the same migrations by Prisma's own
//    engine (applyMigrations): same structure as "migrated", and the same
//    _prisma_migrations records, so `prisma migrate deploy` agrees with our runner.
// 5. The schema snapshot kept with the latest migration models the same database
//    as schema.prisma, so the next `npm run db:migration` diffs from the right place.
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { startThrowawayPostgres } from '../src/db/embedded.js';
import { DEFAULT_MIGRATIONS_DIR, runMigrations } from '../src/db/migrate.js';
import { applyMigrationsWithEngine, diffToScript, isEmptyScript } from './schema-engine.js';

/** Hand-written check constraints (in migrations only; Prisma cannot model them), by table. */
const EXPECTED_CHECKS: Record<string, string[]> = {
  events: [
    'events_occurred_order_check',
    'events_country_format_check',
    'events_lat_range_check',
    'events_lon_range_check',
    'events_coordinates_pair_check',
    'events_title_not_blank_check',
    'events_version_positive_check',
    'events_tags_not_null_check',
  ],
  actors: [
    'actors_country_format_check',
    'actors_name_not_blank_check',
    'actors_version_positive_check',
    'actors_aliases_not_null_check',
  ],
  documents: ['documents_version_positive_check'],
  reports: [
    'reports_reliability_grade_check',
    'reports_credibility_range_check',
    'reports_stated_at_pair_check',
    'reports_version_positive_check',
  ],
  figures: [
    'figures_owner_check',
    'figures_low_nonnegative_check',
    'figures_best_nonnegative_check',
    'figures_high_nonnegative_check',
    'figures_low_best_order_check',
    'figures_best_high_order_check',
    'figures_low_high_order_check',
    'figures_position_nonnegative_check',
    'figures_derived_owner_check',
  ],
  report_via: ['report_via_position_nonnegative_check'],
  participants: ['participants_position_nonnegative_check'],
  event_relations: ['event_relations_not_self_check'],
  revisions: ['revisions_version_positive_check', 'revisions_changed_fields_not_null_check'],
  event_external_ids: ['event_external_ids_source_format_check', 'event_external_ids_external_id_not_blank_check'],
};

/** Hand-written indexes (expression, partial and covering ones Prisma cannot model), by name. */
const EXPECTED_INDEXES = ['events_occurred_span_idx', 'events_unrendered_idx', 'events_occurred_start_id_idx'];

/** Hand-written SQL functions (the CSV export's record of an event, the change stream's NOTIFY), by name and arguments. */
const EXPECTED_FUNCTIONS = [
  'csv_field(value text)',
  'csv_number(value jsonb)',
  'csv_figure_text(figure jsonb)',
  'event_csv_record(event jsonb)',
  'notify_changes()',
];

/** Hand-written triggers (the change stream's NOTIFY), as table.trigger. */
const EXPECTED_TRIGGERS = ['revisions.revisions_notify_changes'];

/**
 * Foreign keys the migrations make DEFERRABLE (migration deferrable_event_keys; Prisma cannot model
 * it): otherwise the same as schema.prisma's, as table.constraint.
 */
const EXPECTED_DEFERRABLE = [
  'reports.reports_event_id_fkey',
  'participants.participants_event_id_fkey',
  'figures.figures_event_id_fkey',
  'event_external_ids.event_external_ids_event_id_fkey',
  'event_relations.event_relations_event_id_fkey',
];

/** The event-type vocabulary the migrations seed. */
const EXPECTED_EVENT_TYPES = [
  'attack',
  'atrocity_allegation',
  'battle',
  'capture',
  'casualty_claim',
  'death',
  'deployment',
  'equipment_transfer',
  'friendly_fire',
  'other',
  'prisoner_exchange',
  'statement',
  'strike',
  // ACLED's sub-event types (migration acled_event_types)
  'abduction',
  'agreement',
  'arrest',
  'base_established',
  'chemical_weapon',
  'excessive_force',
  'explosive_device',
  'grenade',
  'group_change',
  'looting',
  'mob_violence',
  'protest',
  'protest_intervention',
  'riot',
  'sexual_violence',
  'shelling',
  'suicide_bomb',
  'territory_regained',
  'territory_taken',
  'territory_transfer',
  'weapons_disrupted',
];

const MIGRATIONS_TABLE = '_prisma_migrations';
const SCHEMA_PATH = fileURLToPath(new URL('../prisma/schema.prisma', import.meta.url));

/** A database's structure as "kind name" -> canonical description, for set comparison. */
type Structure = Map<string, string>;

// Objects that belong to an extension are the extension's business, not ours.
const NOT_FROM_EXTENSION = (oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.objid = ${oid} AND dep.deptype = 'e')`;

const STRUCTURE_QUERIES: { kind: string; sql: string }[] = [
  {
    kind: 'schema',
    sql: `SELECT nspname AS name, '' AS description FROM pg_namespace
          WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'`,
  },
  {
    kind: 'extension',
    sql: `SELECT extname AS name, '' AS description FROM pg_extension WHERE extname <> 'plpgsql'`,
  },
  {
    kind: 'relation',
    sql: `SELECT c.relname AS name,
                 concat_ws(' ', 'relkind=' || c.relkind::text, CASE WHEN c.relrowsecurity THEN 'row-security' END,
                           CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END) AS description
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
            AND ${NOT_FROM_EXTENSION('c.oid')}`,
  },
  {
    // Column order is not compared: a column added by a later migration comes last,
    // while a fresh database puts it where the model lists it.
    kind: 'column',
    sql: `SELECT c.relname || '.' || a.attname AS name,
                 concat_ws(' ', format_type(a.atttypid, a.atttypmod),
                           CASE WHEN a.attnotnull THEN 'NOT NULL' ELSE 'NULL' END,
                           'DEFAULT ' || pg_get_expr(d.adbin, d.adrelid),
                           CASE a.attidentity WHEN 'a' THEN 'IDENTITY ALWAYS' WHEN 'd' THEN 'IDENTITY BY DEFAULT' END,
                           CASE WHEN a.attgenerated = 's' THEN 'GENERATED' END,
                           CASE WHEN a.attcollation <> t.typcollation THEN 'COLLATE ' || co.collname END) AS description
          FROM pg_attribute a
          JOIN pg_class c ON c.oid = a.attrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_type t ON t.oid = a.atttypid
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          LEFT JOIN pg_collation co ON co.oid = a.attcollation
          WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')
            AND a.attnum > 0 AND NOT a.attisdropped AND ${NOT_FROM_EXTENSION('c.oid')}`,
  },
  {
    // Primary keys, unique constraints, foreign keys (with their actions), checks, exclusions.
    // NOT NULL is covered by the columns (and is a constraint of its own from PostgreSQL 18).
    kind: 'constraint',
    sql: `SELECT c.relname || '.' || con.conname AS name, pg_get_constraintdef(con.oid) AS description
          FROM pg_constraint con
          JOIN pg_class c ON c.oid = con.conrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = current_schema() AND con.contype <> 'n'`,
  },
  {
    // The definition carries uniqueness, method (btree, gin...), columns with their order, and predicate.
    kind: 'index',
    sql: `SELECT ic.relname AS name, pg_get_indexdef(i.indexrelid) AS description
          FROM pg_index i
          JOIN pg_class ic ON ic.oid = i.indexrelid
          JOIN pg_namespace n ON n.oid = ic.relnamespace
          WHERE n.nspname = current_schema() AND ${NOT_FROM_EXTENSION('i.indrelid')}`,
  },
  {
    kind: 'type',
    sql: `SELECT t.typname AS name,
                 CASE t.typtype
                   WHEN 'e' THEN 'enum ' || (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder)::text
                                             FROM pg_enum e WHERE e.enumtypid = t.oid)
                   WHEN 'd' THEN 'domain over ' || format_type(t.typbasetype, t.typtypmod)
                   ELSE 'typtype=' || t.typtype::text
                 END AS description
          FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
          WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'd', 'r', 'm')
            AND ${NOT_FROM_EXTENSION('t.oid')}`,
  },
  {
    kind: 'function',
    sql: `SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS name,
                 'prokind=' || p.prokind::text || ' md5=' || md5(p.prosrc) AS description
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE n.nspname = current_schema() AND ${NOT_FROM_EXTENSION('p.oid')}`,
  },
  {
    kind: 'trigger',
    sql: `SELECT c.relname || '.' || tg.tgname AS name, pg_get_triggerdef(tg.oid) AS description
          FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = current_schema() AND NOT tg.tgisinternal`,
  },
  {
    kind: 'rule',
    sql: `SELECT tablename || '.' || rulename AS name, definition AS description
          FROM pg_rules WHERE schemaname = current_schema()`,
  },
  {
    kind: 'policy',
    sql: `SELECT tablename || '.' || policyname AS name,
                 concat_ws(' ', cmd, permissive, roles::text, qual, with_check) AS description
          FROM pg_policies WHERE schemaname = current_schema()`,
  },
];

async function readStructure(connectionString: string): Promise<Structure> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const structure: Structure = new Map();
    for (const { kind, sql } of STRUCTURE_QUERIES) {
      const { rows } = await client.query<{ name: string; description: string | null }>(sql);
      for (const row of rows) structure.set(`${kind} ${row.name}`, row.description ?? '');
    }
    return structure;
  } finally {
    await client.end();
  }
}

/** Whether a structure key concerns the migrations table (its table, columns, key, index). */
function isMigrationsTable(key: string): boolean {
  const name = key.slice(key.indexOf(' ') + 1);
  return (
    name === MIGRATIONS_TABLE || name.startsWith(`${MIGRATIONS_TABLE}.`) || name.startsWith(`${MIGRATIONS_TABLE}_`)
  );
}

/** Human-readable differences between two structures; empty when they agree. */
function compareStructures(
  left: Structure,
  right: Structure,
  leftName: string,
  rightName: string,
  skip: (key: string) => boolean,
): string[] {
  const problems: string[] = [];
  const keys = [...new Set([...left.keys(), ...right.keys()])].filter((key) => !skip(key)).sort();
  for (const key of keys) {
    const a = left.get(key);
    const b = right.get(key);
    if (a === undefined) problems.push(`${key}: only in ${rightName}: ${b}`);
    else if (b === undefined) problems.push(`${key}: only in ${leftName}: ${a}`);
    else if (a !== b) problems.push(`${key}: differs\n      ${leftName}: ${a}\n      ${rightName}: ${b}`);
  }
  return problems;
}

interface MigrationRecord {
  migration_name: string;
  checksum: string;
  applied_steps_count: number;
  finished: boolean;
  rolled_back: boolean;
  logs: string | null;
}

async function readMigrationRecords(connectionString: string): Promise<MigrationRecord[]> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const { rows } = await client.query<MigrationRecord>(
      `SELECT migration_name, checksum, applied_steps_count, finished_at IS NOT NULL AS finished,
              rolled_back_at IS NOT NULL AS rolled_back, logs
       FROM "${MIGRATIONS_TABLE}" ORDER BY migration_name`,
    );
    return rows;
  } finally {
    await client.end();
  }
}

async function readEventTypeCodes(connectionString: string): Promise<string[]> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const { rows } = await client.query<{ code: string }>('SELECT code FROM event_types');
    return rows.map((row) => row.code).sort();
  } finally {
    await client.end();
  }
}

async function executeScript(connectionString: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function latestSnapshot(): Promise<{ migration: string; text: string } | null> {
  const entries = await readdir(DEFAULT_MIGRATIONS_DIR, { withFileTypes: true });
  const latest = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .at(-1);
  if (latest === undefined) return null;
  const text = await readFile(path.join(DEFAULT_MIGRATIONS_DIR, latest, 'schema.prisma.snapshot'), 'utf8').catch(
    () => '',
  );
  return { migration: latest, text };
}

/** Scratch databases on the configured server, dropped by `dropAll` whatever happens. */
class ScratchDatabases {
  private readonly names: string[] = [];
  private readonly prefix = `migcheck_${randomBytes(5).toString('hex')}`;
  constructor(
    private readonly admin: pg.Client,
    private readonly serverUrl: string,
  ) {}

  async create(role: string): Promise<string> {
    const name = `${this.prefix}_${role}`;
    await this.admin.query(`CREATE DATABASE "${name}"`);
    this.names.push(name);
    const url = new URL(this.serverUrl);
    url.pathname = `/${name}`;
    return url.toString();
  }

  async dropAll(): Promise<void> {
    for (const name of this.names.splice(0)) {
      // FORCE: a pool someone forgot to close must not leave a database behind.
      await this.admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch((error: unknown) => {
        console.error(
          `Could not drop scratch database ${name}: ${error instanceof Error ? error.message : String(error)}`,
        );
      });
    }
  }
}

async function check(serverUrl: string, scratch: ScratchDatabases): Promise<string[]> {
  const problems: string[] = [];
  const schema = await readFile(SCHEMA_PATH, 'utf8');
  const [migratedUrl, modelUrl, engineUrl] = [
    await scratch.create('migrated'),
    await scratch.create('model'),
    await scratch.create('engine'),
  ];

  const [modelScript, snapshot] = await settleAll([diffToScript(null, schema, serverUrl), latestSnapshot()]);
  await settleAll([
    runMigrations(migratedUrl).catch((error: unknown) => {
      throw new Error(`runMigrations failed on the migrations: ${message(error)}`);
    }),
    executeScript(modelUrl, modelScript).catch((error: unknown) => {
      throw new Error(`The SQL of diff(empty -> schema.prisma) failed: ${message(error)}`);
    }),
    applyMigrationsWithEngine(engineUrl, DEFAULT_MIGRATIONS_DIR, schema).catch((error: unknown) => {
      throw new Error(`Prisma's applyMigrations failed on the migrations: ${message(error)}`);
    }),
  ]);
  const [migrated, model, engine, ourRecords, engineRecords, eventTypes] = await settleAll([
    readStructure(migratedUrl),
    readStructure(modelUrl),
    readStructure(engineUrl),
    readMigrationRecords(migratedUrl),
    readMigrationRecords(engineUrl),
    readEventTypeCodes(migratedUrl),
  ]);

  // Migrations vs the Prisma model, extras aside.
  const extras = new Set([
    ...Object.entries(EXPECTED_CHECKS).flatMap(([table, names]) => names.map((name) => `constraint ${table}.${name}`)),
    ...EXPECTED_INDEXES.map((name) => `index ${name}`),
    ...EXPECTED_FUNCTIONS.map((name) => `function ${name}`),
    ...EXPECTED_TRIGGERS.map((name) => `trigger ${name}`),
  ]);
  // A deferrable key is schema.prisma's key with DEFERRABLE added; compared without it.
  const migratedAsModelled = new Map(migrated);
  for (const name of EXPECTED_DEFERRABLE) {
    const key = `constraint ${name}`;
    const description = migrated.get(key);
    if (description?.endsWith(' DEFERRABLE')) migratedAsModelled.set(key, description.slice(0, -' DEFERRABLE'.length));
    else problems.push(`${key} should be DEFERRABLE in the migrated database: ${description ?? 'missing'}`);
  }
  const drift = compareStructures(
    migratedAsModelled,
    model,
    'migrations',
    'schema.prisma',
    (key) => isMigrationsTable(key) || extras.has(key),
  );
  if (drift.length > 0)
    problems.push('The migrations do not build the database schema.prisma describes:', ...drift.map(indent));

  const missing = [...extras].filter((key) => !migrated.has(key));
  if (missing.length > 0)
    problems.push('Hand-written extras missing from the migrated database:', ...missing.map(indent));
  const modelled = [...extras].filter((key) => model.has(key));
  if (modelled.length > 0)
    problems.push('Listed as hand-written extras but produced by schema.prisma:', ...modelled.map(indent));

  if (JSON.stringify(eventTypes) !== JSON.stringify([...EXPECTED_EVENT_TYPES].sort())) {
    problems.push(
      'Seeded event types differ:',
      indent(`migrated: ${eventTypes.join(', ')}`),
      indent(`expected: ${EXPECTED_EVENT_TYPES.join(', ')}`),
    );
  }

  // Our runner vs Prisma's engine: same database, same migration records.
  const runnerVsEngine = compareStructures(migrated, engine, 'runMigrations', 'prisma engine', () => false);
  if (runnerVsEngine.length > 0)
    problems.push(
      "runMigrations and Prisma's applyMigrations build different databases:",
      ...runnerVsEngine.map(indent),
    );
  if (JSON.stringify(ourRecords) !== JSON.stringify(engineRecords)) {
    problems.push(
      `${MIGRATIONS_TABLE} differs between runMigrations and Prisma's applyMigrations:`,
      indent(`runMigrations: ${JSON.stringify(ourRecords)}`),
      indent(`prisma engine: ${JSON.stringify(engineRecords)}`),
    );
  }

  // The snapshot is the "from" of the next generated migration.
  if (snapshot === null) {
    problems.push('prisma/migrations holds no migration.');
  } else if (snapshot.text === '') {
    problems.push(`${snapshot.migration}/schema.prisma.snapshot is missing or empty.`);
  } else {
    const pending = await diffToScript(snapshot.text, schema, serverUrl);
    if (!isEmptyScript(pending)) {
      problems.push(
        `schema.prisma has changes that no migration's snapshot records (run npm run db:migration -- NAME):`,
        ...pending.trim().split('\n').map(indent),
      );
    }
  }
  return problems;
}

/**
 * Like Promise.all, but waits for every task before failing: a task still running
 * while the scratch databases are dropped would die on its severed connection.
 */
async function settleAll<T extends readonly unknown[]>(tasks: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(tasks);
  const failures = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failures.length > 0) throw new Error(failures.map((failure) => message(failure.reason)).join('\n'));
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function indent(line: string): string {
  return `    ${line}`;
}

async function main(): Promise<number> {
  const started = Date.now();
  // Scratch databases go on DATABASE_URL's server, or on a throwaway embedded one.
  const embedded = loadConfig().DATABASE_URL === undefined ? await startThrowawayPostgres() : undefined;
  try {
    return await checkOn(embedded?.adminUrl ?? loadConfig().DATABASE_URL!, started);
  } finally {
    await embedded?.stop();
  }
}

async function checkOn(DATABASE_URL: string, started: number): Promise<number> {
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  const scratch = new ScratchDatabases(admin, DATABASE_URL);
  // An interrupted CI job should not leave scratch databases behind either.
  const onSignal = (signal: NodeJS.Signals) => {
    void scratch.dropAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let problems: string[];
  try {
    problems = await check(DATABASE_URL, scratch);
  } finally {
    await scratch.dropAll();
    await admin.end();
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (problems.length > 0) {
    console.error(problems.join('\n'));
    console.error(`db:check FAILED (${seconds}s)`);
    return 1;
  }
  console.log(`db:check OK: migrations match schema.prisma and Prisma's own engine (${seconds}s)`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
