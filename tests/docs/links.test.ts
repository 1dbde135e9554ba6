// The README and docs/ as a clone has them: every relative link names a file of this repository
// (and a heading there, when it has a #fragment), nothing points outside it (../shared is not
// cloned), the README opens with the two set-up commands, and docs/configuration.md lists every
// setting of the configuration schema.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pages = [
  'README.md',
  ...readdirSync(path.join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];
const read = (page: string) => readFileSync(path.join(root, page), 'utf8');
const withoutCodeBlocks = (text: string) => text.replace(/```[\s\S]*?```/g, '');
const withoutCode = (text: string) => text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  for (const [, heading] of withoutCodeBlocks(text).matchAll(/^#+\s+(.+)$/gm)) {
    anchors.add(
      heading!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\- ]/gu, '')
        .replace(/ /g, '-'),
    );
  }
  return anchors;
}
function linksOf(page: string): string[] {
  return [...withoutCode(read(page)).matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!);
}

describe('README and docs/', () => {
  it('finds the pages and their links', () => {
    expect(pages).toContain('docs/configuration.md');
    expect(pages.flatMap(linksOf).length).toBeGreaterThan(10);
  });

  it('never point outside the repository', () => {
    for (const page of pages) expect(read(page), page).not.toMatch(/\.\.\/shared/);
  });

  it('link only to files of the repository, and to headings that exist', () => {
    const broken: string[] = [];
    for (const page of pages) {
      for (const link of linksOf(page)) {
        if (/^(https?|mailto):/.test(link)) continue;
        const [target, fragment] = link.split('#');
        const file = target ? path.resolve(root, path.dirname(page), target) : path.join(root, page);
        if (!file.startsWith(root + path.sep) || !existsSync(file)) broken.push(`${page}: ${link}`);
        else if (fragment && file.endsWith('.md') && !anchorsOf(readFileSync(file, 'utf8')).has(fragment)) {
          broken.push(`${page}: ${link} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('the README opens with the two set-up commands', () => {
    const lines = read('README.md').split('\n');
    expect(lines.slice(0, 6).join('\n')).toMatch(/```sh\nnpm install && npm start +#.*\nnpm test +#.*\n```/);
  });

  it('docs/configuration.md has a row for every setting of the configuration schema', () => {
    const table = read('docs/configuration.md');
    const settings = Object.keys(ConfigSchema.shape);
    expect(settings.length).toBeGreaterThan(10);
    const missing = settings.filter((name) => !new RegExp(`^\\|[^\\n]*\`${name}\``, 'm').test(table));
    expect(missing).toEqual([]);
  });
});
