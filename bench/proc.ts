// What /proc says of a process (Linux): its memory and the CPU time it has used.
// Shared by the benchmark (bench/run.ts) and the soak run (bench/soak.ts).
import { readFileSync } from 'node:fs';

/** Resident memory of a process in MB, current (VmRSS) and peak since start (VmHWM). */
export function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const read = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
  return { rss: read('VmRSS'), peak: read('VmHWM') };
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (in clock ticks of 1/100 s). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
