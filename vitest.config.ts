import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // One PostgreSQL for the run (DATABASE_URL's server, or an embedded one); each file gets its own database.
    globalSetup: ['tests/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Files run four at a time (vitest's default is one per core but one, so one here): they wait on
    // PostgreSQL and HTTP more than they compute. Each worker keeps its modules between files
    // (isolate: false) instead of importing the app again for every file, which was a third of the
    // run; the files share no state but their own databases. On the 2-core machine: 5 min 26 s
    // one file at a time, 2 min 40 s like this.
    maxWorkers: 4,
    isolate: false,
  },
});
