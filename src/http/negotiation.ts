// Choosing a representation: `format=` wins, else the Accept header (with q
// values); no Accept or */* means JSON. Nothing acceptable is a 406.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

export interface Representation<F extends string> {
  format: F;
  mediaType: string;
}

export function negotiate<F extends string>(
  request: FastifyRequest,
  formats: readonly Representation<F>[],
  explicit?: F,
): Representation<F> {
  if (explicit) return formats.find((f) => f.format === explicit)!;
  const accept = request.headers.accept;
  if (!accept) return formats[0]!;
  const ranges = accept
    .split(',')
    .map((part, order) => {
      const [range = '', ...params] = part.trim().split(';');
      const q = params.map((param) => param.trim()).find((param) => param.startsWith('q='));
      return { range: range.trim().toLowerCase(), q: q ? Number(q.slice(2)) : 1, order };
    })
    .filter((r) => r.range && Number.isFinite(r.q) && r.q > 0)
    .sort((a, b) => b.q - a.q || a.order - b.order);
  for (const { range } of ranges) {
    const [type, subtype] = range.split('/');
    const found = formats.find(({ mediaType }) => {
      const [t, s] = mediaType.split('/');
      return (type === '*' || type === t) && (subtype === '*' || subtype === s);
    });
    if (found) return found;
  }
  throw new ApiError(
    'not-acceptable',
    `None of the accepted types (${accept}) is available; this resource serves ${formats.map((f) => f.mediaType).join(', ')}.`,
  );
}

/**
 * Adds `names` to the answer's Vary header, keeping what is there (CORS adds Origin before the
 * route runs; setting the header would drop it, and a cache would then serve one origin's answer
 * to another).
 */
export function addVary(reply: FastifyReply, ...names: string[]): void {
  const current = String(reply.getHeader('vary') ?? '');
  const listed = current
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (listed.includes('*')) return;
  const known = new Set(listed.map((name) => name.toLowerCase()));
  const added = names.filter((name) => !known.has(name.toLowerCase()));
  if (added.length > 0) reply.header('vary', [...listed, ...added].join(', '));
}
