// Reads the project's Dockerfile into its stages and instructions, for the checks that
// run its steps without a Docker engine (check-container.ts) and compare it with the
// compose file (check-compose.ts). Only the syntax the project uses is understood:
// anything else is an error, so the checks cannot silently skip a step.
import { readFile } from 'node:fs/promises';

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, ... */
  keyword: string;
  /** The rest of the instruction, continuation lines joined. */
  args: string;
  line: number;
}

export interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

const KNOWN = new Set(['FROM', 'WORKDIR', 'ENV', 'COPY', 'RUN', 'USER', 'EXPOSE', 'HEALTHCHECK', 'CMD']);

export async function readDockerfile(path: string): Promise<Stage[]> {
  const lines = (await readFile(path, 'utf8')).split('\n');
  const stages: Stage[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    const start = index + 1;
    let text = lines[index]!.trim();
    if (text === '' || text.startsWith('#')) continue;
    // A trailing backslash continues the instruction; comment lines inside it are dropped, as Docker does.
    while (text.endsWith('\\') && index + 1 < lines.length) {
      index += 1;
      const next = lines[index]!.trim();
      if (!next.startsWith('#')) text = `${text.slice(0, -1).trimEnd()} ${next}`;
    }
    const [keyword = '', ...rest] = text.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' '), line: start };
    if (!KNOWN.has(instruction.keyword))
      throw new Error(`Dockerfile:${start}: ${keyword} is not understood by the checks`);
    if (instruction.keyword === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (!match) throw new Error(`Dockerfile:${start}: FROM ${instruction.args} is not understood`);
      stages.push({ image: match[1]!, name: match[2] ?? String(stages.length), instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile:${start}: ${keyword} before any FROM`);
    stage.instructions.push(instruction);
  }
  return stages;
}

/** Exec form (a JSON array) as its argv; shell form as `sh -c`. */
export function commandOf(args: string): string[] {
  if (args.startsWith('[')) return JSON.parse(args) as string[];
  return ['/bin/sh', '-c', args];
}

/** ENV k=v k2="v 2" (the only form used here). */
export function envOf(args: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const match of args.matchAll(/(\w+)=("([^"]*)"|\S+)/g)) env[match[1]!] = match[3] ?? match[2]!;
  return env;
}
