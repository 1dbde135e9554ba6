// The valid bodies each write draws, before mutation: the test fixtures with some fields
// drawn from the schema (so most are accepted and reach the database), and merge patches
// of a field or two. Operations not named here draw whole bodies from their schema.
import fc from 'fast-check';
import { actorBody, documentBody, eventBody, reportBody } from '../helpers/fixtures.js';
import type { Operation } from './contract.js';
import type { Generators } from './generators.js';

type Fixture = (overrides: Record<string, unknown>) => Record<string, unknown>;

const FIXTURES: Record<string, [Fixture, string[]]> = {
  createEvent: [
    eventBody,
    [
      'title',
      'description',
      'status',
      'occurred',
      'location',
      'participants',
      'figures',
      'reports',
      'tags',
      'relations',
      'type',
    ],
  ],
  createEventReport: [
    reportBody,
    [
      'reporter',
      'reporter_role',
      'via',
      'document',
      'stated_at',
      'stance',
      'quote',
      'reliability',
      'credibility',
      'figures',
    ],
  ],
  createActor: [actorBody, ['name', 'kind', 'country', 'aliases', 'external_ids']],
  createDocument: [
    documentBody,
    ['url', 'title', 'publisher', 'published_at', 'language', 'archive_url', 'content_hash'],
  ],
};

/** Valid bodies for `operation`, or undefined to draw them from its schema alone. */
export function validBodyOf(g: Generators, operation: Operation): fc.Arbitrary<unknown> | undefined {
  const schema = Object.values(operation.body?.content ?? {})[0];
  if (!schema) return undefined;
  if (operation.method === 'patch') return g.fewFieldsOf(schema);
  const fixture = FIXTURES[operation.operationId];
  if (!fixture) return undefined;
  const [build, fields] = fixture;
  const drawn = g.valueOf(schema) as fc.Arbitrary<Record<string, unknown>>;
  const mixed = fc
    .tuple(drawn, fc.subarray(fields, { maxLength: 3 }))
    .map(([body, keys]) => build(Object.fromEntries(keys.filter((key) => key in body).map((key) => [key, body[key]]))));
  return fc.oneof({ weight: 3, arbitrary: mixed }, { weight: 1, arbitrary: drawn });
}
