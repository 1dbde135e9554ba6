// The Node versions package.json supports are honest (issue 17): every installed package accepts
// each of them (npm install warns EBADENGINE otherwise), and the Node running the tests is one.
// CI runs the suite on Node 20 and on the current LTS (.ci/run).
import { existsSync, readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url);
const supported = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } })
  .engines.node;
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
};

describe('supported Node versions', () => {
  it('are accepted by every installed package', () => {
    const installed = Object.entries(lock.packages).filter(
      // Optional packages for other platforms are in the lockfile but not installed, and npm does not check them.
      ([location]) => location !== '' && existsSync(new URL(location, root)),
    );
    expect(installed.length).toBeGreaterThan(100);
    const refusing = installed.flatMap(([location, entry]) => {
      const wanted = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      return wanted && !semver.subset(supported, wanted) ? [`${location}@${entry.version} wants node ${wanted}`] : [];
    });
    expect(refusing).toEqual([]);
  });

  it('include the Node running this test, and Node 20.19 and 22.13', () => {
    expect(semver.satisfies(process.version, supported)).toBe(true);
    expect(semver.satisfies('20.19.0', supported)).toBe(true);
    expect(semver.satisfies('22.13.0', supported)).toBe(true);
  });
});
