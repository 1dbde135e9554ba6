// API keys: made of 256 random bits, stored only as their SHA-256 with a short visible
// prefix. Shared by the /v1/api-keys routes and the `npm run keys` command.
import { createHash, randomBytes } from 'node:crypto';
import { isUniqueViolation } from '../../db/errors.js';
import type { ApiKey, PrismaClient, Role } from '../../generated/prisma/client.js';

export type { Role };
export const ROLES = ['reader', 'editor', 'admin'] as const satisfies readonly Role[];

const KEY_PREFIX = 'cek_';
/** Characters of a key shown in lists: "cek_" and 8 more, enough to tell keys apart, far too few to guess one. */
const VISIBLE = KEY_PREFIX.length + 8;

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

/** Whether text has the shape of a key this service issues (checked before hashing). */
export const looksLikeKey = (text: string) => /^cek_[A-Za-z0-9_-]{43}$/.test(text);

/**
 * Creates a key; returns its row and the key itself, which exists nowhere else from then on, or
 * null when the name is taken (names are never reused, even revoked ones). The unique index
 * decides, so callers creating one name at once get one key and nulls, never an error.
 */
export async function createKey(
  prisma: PrismaClient,
  name: string,
  role: Role,
  createdBy: string,
): Promise<{ row: ApiKey; key: string } | null> {
  const key = KEY_PREFIX + randomBytes(32).toString('base64url');
  try {
    const row = await prisma.apiKey.create({
      data: { name, role, prefix: key.slice(0, VISIBLE), hash: hashKey(key), createdBy },
    });
    return { row, key };
  } catch (error) {
    if (isUniqueViolation(error)) return null;
    throw error;
  }
}

/** The live key with this value, or null (unknown or revoked). One indexed lookup: a revocation counts at once. */
export async function findLiveKey(prisma: PrismaClient, key: string): Promise<Pick<ApiKey, 'name' | 'role'> | null> {
  if (!looksLikeKey(key)) return null;
  return prisma.apiKey.findFirst({
    where: { hash: hashKey(key), revokedAt: null },
    select: { name: true, role: true },
  });
}

export async function listKeys(prisma: PrismaClient): Promise<ApiKey[]> {
  return prisma.apiKey.findMany({ orderBy: { createdAt: 'asc' } });
}

/** Revokes the key of this name; returns false when there is no live key of that name. */
export async function revokeKey(prisma: PrismaClient, name: string, revokedBy: string): Promise<boolean> {
  const revoked = await prisma.apiKey.updateMany({
    where: { name, revokedAt: null },
    data: { revokedAt: new Date(), revokedBy },
  });
  return revoked.count > 0;
}

export async function countKeys(prisma: PrismaClient): Promise<number> {
  return prisma.apiKey.count();
}

/** A key's row as the API shows it: never the hash. */
export function toKeyInfo(row: ApiKey) {
  return {
    name: row.name,
    role: row.role,
    prefix: row.prefix,
    created_at: row.createdAt.toISOString(),
    created_by: row.createdBy,
    revoked_at: row.revokedAt?.toISOString() ?? null,
  };
}
