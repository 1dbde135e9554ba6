import { configDefaults, defineConfig } from 'vitest/config';

// Scenarios that start processes (npm start, the CLI, a server sent SIGTERM), drive the service
// with generated traffic, or load it to its limits. They cost about half of the whole run's time,
// so `npm test` leaves them to `npm run test:slow`; CI runs both suites on every database.
const SLOW_SCENARIOS = [
  'tests/newcomer.test.ts',
  'tests/server.test.ts',
  'tests/imports/cli.test.ts',
  'tests/imports/memory.test.ts',
  'tests/fuzz/*.test.ts',
  'tests/operations/admission.test.ts',
  'tests/operations/seed-synthetic.test.ts',
];

export default defineConfig({
  test: {
    // One PostgreSQL for the run (DATABASE_URL's server, or an embedded one); each file gets its own database.
    globalSetup: ['tests/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Files run four at a time (vitest's default is one per core but one, so one here): they wait on
    // PostgreSQL and HTTP more than they compute. Each worker keeps its modules between files
    // (isolate: false) instead of importing the app again for every file, which was a third of the
    // run; the files share no state but their own databases.
    maxWorkers: 4,
    isolate: false,
    projects: [
      {
        extends: true,
        test: {
          name: 'fast',
          include: ['tests/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...SLOW_SCENARIOS],
        },
      },
      { extends: true, test: { name: 'slow', include: SLOW_SCENARIOS } },
    ],
  },
});
