// The layering of src/, checked in CI (`npm run lint` runs `depcruise src`). docs/architecture.md
// draws it; from the bottom up:
//
//   db/                the database handle, locks, error probes: imports nothing of ours above it
//   http/              the HTTP edge's helpers (errors, auth, pagination): imports no module
//   write/unit.ts      a write's unit of work: imports no module
//   modules/<name>/    one folder per resource: schemas, repository (reads), writes (on a unit)
//   write/finish.ts    the finish step every write owes (versions, derived columns, revisions)
//   write/run.ts       the runner: transaction, the handler's work, then finish; called by routes
//   modules/*/routes.ts, app.ts, server.ts, cli/: the entry points
//
// A module's public surface, which other modules may import:
//   schemas.ts         its types and validation (zod)
//   repository.ts      its reads and its find-or-create
//   writes.ts          its writes, each on a unit of work
//   json-sql.ts, filters.ts, evidence.ts
//                      SQL other modules compose: the resource as JSON, list conditions, what reports add up to
//   refresh.ts, derive.ts, record.ts
//                      the derived-data steps, for the finish step and the bulk loaders
//   records.ts         the import pipeline's records, shared with the ACLED reader
//   render/*.ts        events/render/: every form an event is served in (its JSON, CSV record, ACLED row, search
//                      vector, the export streams) and an exported event read back as a body, for the imports
// Everything else in a module folder (routes.ts, the import job's pipeline, the CSV stream, the
// list query, ...) is internal to it.
//
// The module folders are layered too (MODULE_LAYERS below): a folder, routes.ts included,
// imports only folders of the layers below its own, so no two folders import each other,
// directly or round a longer circle. A route that needs two modules lives in the higher one
// (GET /v1/events/{id}/reports in events/, above reports/).

const PUBLIC = '(schemas|repository|writes|json-sql|filters|evidence|refresh|derive|record|records|render/[^/]+)';

// The module folders, bottom up, each layer with why it sits where it does.
const MODULE_LAYERS = [
  ['actors', 'documents', 'event-types', 'keys', 'health', 'index'], // resources that name no other
  ['figures'], // a figure's subject is an actor
  ['reports'], // a report names actors, documents and figures
  ['events'], // an event holds its reports and is rendered with them
  ['changes', 'stats'], // derived from events: revisions and the feed; the stats tables
  ['imports'], // the bulk pipeline: writes events, then their revisions and stats
  ['acled'], // ACLED's import reader, into import records (what it shares with the export is in events/render/)
];

/** One rule per module folder: it may import the folders of the layers below its own, and no other. */
const moduleLayerRules = MODULE_LAYERS.flatMap((layer, level) =>
  layer.map((name) => {
    const below = MODULE_LAYERS.slice(0, level).flat();
    return {
      name: `module-layer-${name}`,
      comment: `modules/${name}/ imports no module folder but these (MODULE_LAYERS): ${below.join(', ') || 'none'}.`,
      severity: 'error',
      from: { path: `^src/modules/${name}/` },
      to: { path: '^src/modules/[^/]+/', pathNot: `^src/modules/(${[name, ...below].join('|')})/` },
    };
  }),
);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import circle: the files in it cannot be understood, tested or loaded one at a time.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'db-imports-no-layer-above',
      comment: 'db/ is the bottom layer: it imports config and the generated Prisma client only.',
      severity: 'error',
      from: { path: '^src/db/' },
      to: { path: '^src/(modules|http|write|openapi|cli|app\\.ts|server\\.ts)' },
    },
    {
      name: 'http-imports-no-module',
      comment: 'http/ is shared by every route: what it needs of a module (the API keys) app.ts hands it.',
      severity: 'error',
      from: { path: '^src/http/' },
      to: { path: '^src/(modules|write)/' },
    },
    {
      name: 'unit-of-work-imports-no-module',
      comment: 'The unit of work sits below the modules, which write through it.',
      severity: 'error',
      from: { path: '^src/write/unit\\.ts$' },
      to: { path: '^src/(modules|write/(run|finish))' },
    },
    {
      name: 'only-entry-points-run-writes',
      comment:
        'Writes and repositories work on the unit they are given; opening a write (and so its finish step) is for routes, jobs and seeds.',
      severity: 'error',
      from: { path: `^src/modules/[^/]+/${PUBLIC}\\.ts$` },
      to: { path: '^src/write/(run|finish)\\.ts$' },
    },
    {
      name: 'routes-are-entry-points',
      comment: 'A route file is registered by app.ts; nothing else imports one.',
      severity: 'error',
      from: { pathNot: '^src/app\\.ts$' },
      to: { path: '^src/modules/[^/]+/routes\\.ts$' },
    },
    {
      name: 'no-module-internals',
      comment: "A module imports another module's public surface only (see the head of this file).",
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/[^/]+/', pathNot: ['^src/modules/$1/', `^src/modules/[^/]+/${PUBLIC}\\.ts$`] },
    },
    ...moduleLayerRules,
    {
      name: 'module-folder-has-a-layer',
      comment: 'A new module folder is given its place in MODULE_LAYERS before it imports another module.',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/', pathNot: `^src/modules/(${MODULE_LAYERS.flat().join('|')})/` },
      to: { path: '^src/modules/[^/]+/', pathNot: '^src/modules/$1/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/generated/' },
    // Type-only imports count: a circle of types is still a circle to read.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
