// Request bodies written for the tests: a minimal valid event, and variations.
import { randomBytes } from 'node:crypto';

/** A short random suffix so names and URLs from different tests never collide. */
export const unique = () => randomBytes(4).toString('hex');

export function reportBody(overrides: Record<string, unknown> = {}) {
  return {
    reporter: { name: "South Korea's National Intelligence Service", kind: 'agency', country: 'KOR' },
    reporter_role: 'third_party',
    stance: 'asserts',
    reliability: 'B',
    credibility: 2,
    ...overrides,
  };
}

export function eventBody(overrides: Record<string, unknown> = {}) {
  return {
    type: 'capture',
    title: 'North Korean soldier captured in the Kursk region',
    occurred: { start: '2024-12-26', precision: 'day' },
    location: { admin1: 'Kursk Oblast', country: 'RUS', lat: 51.6, lon: 36.1, precision: 'admin1' },
    reports: [reportBody()],
    ...overrides,
  };
}
