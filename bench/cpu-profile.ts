// A summary of a V8 CPU profile (node --cpu-prof): where the time went, by function (self time)
// and by file or package, so a profile of the service under bench/run.ts can be read without a
// browser's devtools.
//
//   node --import tsx bench/cpu-profile.ts <file.cpuprofile> [--top 40] [--filter TEXT]
//
// --filter sums the inclusive time of the functions whose name or file contains TEXT (e.g. a hook's file).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '40' }, filter: { type: 'string', multiple: true } },
});
const file = positionals[0];
if (!file) throw new Error('usage: cpu-profile.ts <file.cpuprofile> [--top N] [--filter TEXT]');

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
// Time per sample: the delta before the next one (µs).
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0)));
// Shares are of the busy time: the samples where the process was idle are left out.
const idle = profile.nodes.filter((node) => node.callFrame.functionName === '(idle)').map((node) => node.id);
for (const id of idle) self.delete(id);
const total = [...self.values()].reduce((a, b) => a + b, 0);

const where = (node: Node) => {
  const url = node.callFrame.url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  return pkg ? `npm:${pkg}` : url || `(${node.callFrame.functionName || 'native'})`;
};
const name = (node: Node) =>
  `${node.callFrame.functionName || '(anonymous)'} ${where(node)}:${node.callFrame.lineNumber + 1}`;

const sum = (map: Map<string, number>, key: string, value: number) => map.set(key, (map.get(key) ?? 0) + value);
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
for (const [id, time] of self) {
  const node = byId.get(id)!;
  sum(byFunction, name(node), time);
  sum(byFile, where(node), time);
}
const top = Number(args.top);
const pct = (time: number) => `${((time / total) * 100).toFixed(1).padStart(5)} %`;
const show = (title: string, map: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [key, time] of [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${pct(time)}  ${key}`);
};
console.log(`${file}: ${(total / 1e6).toFixed(2)} s busy (shares below are of this)`);
show('self time by file or package', byFile);
show('self time by function', byFunction);

// Inclusive time of the functions matching each filter (a function counted once per sample, however deep it recurses).
if (args.filter) {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  for (const text of args.filter) {
    let time = 0;
    for (const [id, t] of self) {
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        if (name(byId.get(at)!).includes(text)) {
          time += t;
          break;
        }
      }
    }
    console.log(`inclusive ${pct(time)}  ${text}`);
  }
}
