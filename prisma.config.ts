// Prisma CLI configuration. The URL is only read by commands that need a database
// (`prisma migrate deploy` for users who have the native engine); generation needs none.
import { defineConfig } from 'prisma/config';
import { loadConfig } from './src/config.js';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: loadConfig().DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres' },
});
