// Wire format of API keys: never the hash, and the key itself only once, when created.
import { z } from 'zod';
import { ROLES } from './repository.js';

export const RoleSchema = z
  .enum(ROLES)
  .meta({ id: 'Role', description: 'reader: GET; editor: also writes; admin: also API keys' });

export const KeyNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/,
    'letters, digits and . _ @ - (up to 100), starting with a letter or digit',
  )
  .describe('Who holds the key; recorded as the author of every change made with it');

export const ApiKeySchema = z
  .object({
    name: z.string(),
    role: RoleSchema,
    prefix: z.string().describe('The first characters of the key, to tell keys apart'),
    created_at: z.iso.datetime(),
    created_by: z.string(),
    revoked_at: z.iso.datetime().nullable(),
  })
  .meta({ id: 'ApiKey' });

export const NewApiKeySchema = ApiKeySchema.extend({
  key: z.string().describe('The key itself: shown this once, stored only as a hash'),
}).meta({ id: 'NewApiKey' });

export const ApiKeyCreateSchema = z
  .strictObject({ name: KeyNameSchema, role: RoleSchema })
  .meta({ id: 'ApiKeyCreate' });

export const ApiKeyListSchema = z.object({ data: z.array(ApiKeySchema) }).meta({ id: 'ApiKeyList' });
