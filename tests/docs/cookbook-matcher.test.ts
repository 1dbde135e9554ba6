// The cookbook test is only as good as its comparison: these cases show that a shown answer
// catches a different one.
import { describe, expect, it } from 'vitest';
import { examplesOf, jsonMismatch, textMatches } from './cookbook.js';

describe('the cookbook matcher', () => {
  it('pairs each sh block with the output block after it, and leaves other blocks alone', () => {
    const page = [
      '```sh',
      'curl a',
      '```',
      '',
      '```json',
      '{"a":1}',
      '```',
      '```sh',
      'X=1',
      '```',
      '```ts',
      'code',
      '```',
    ].join('\n');
    expect(examplesOf(page)).toEqual([
      { line: 1, command: 'curl a', shown: { kind: 'json', text: '{"a":1}' } },
      { line: 8, command: 'X=1' },
    ]);
  });

  it('matches JSON on the shown keys, with "..." for any value and a trailing "..." for more elements', () => {
    expect(jsonMismatch({ a: 1, b: '...' }, { a: 1, b: [2], c: 3 })).toBeNull();
    expect(jsonMismatch({ a: 'cek_...' }, { a: 'cek_abc' })).toBeNull();
    expect(jsonMismatch([1, '...'], [1, 2, 3])).toBeNull();
    expect(jsonMismatch({ a: 1 }, { a: 2 })).toBe('/a: expected 1, got 2');
    expect(jsonMismatch({ a: '...' }, {})).toBe('/a: missing');
    expect(jsonMismatch([1], [1, 2])).toBe('/: expected 1 element(s), got 2');
    expect(jsonMismatch({ a: 'cek_...' }, { a: 'xek_abc' })).toMatch(/does not start with/);
    expect(jsonMismatch({ a: { b: null } }, { a: { b: 0 } })).toBe('/a/b: expected null, got 0');
  });

  it('matches text line by line, "..." standing for any characters in a line or any lines alone', () => {
    expect(textMatches('etag: "2"', 'etag: "2"\r\n')).toBe(true);
    expect(textMatches('link: <...>; rel="next"', 'link: <http://x/?cursor=abc>; rel="next"')).toBe(true);
    expect(textMatches('a\n...\nd', 'a\nb\nc\nd')).toBe(true);
    expect(textMatches('a\n...\nd', 'a\nd')).toBe(true);
    expect(textMatches('etag: "2"', 'etag: "3"')).toBe(false);
    expect(textMatches('a\nb', 'a\nb\nc')).toBe(false);
    expect(textMatches('a.c', 'abc')).toBe(false);
  });
});
