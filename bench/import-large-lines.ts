// node --import tsx bench/import-large-lines.ts --mib 255 > large-lines.ndjson
//
// Writes an NDJSON import of valid events whose lines are each just under 1 MiB (the default
// IMPORT_MAX_LINE_BYTES): a 20,000-character description and 95 reports with 10,000-character
// quotes. For measuring the importer's memory on a body near IMPORT_MAX_BYTES (bench/import-http.ts).
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '255' } } });
const budget = Number(values.mib) * 1024 * 1024;
const words = 'shelling reported near the bridge by residents and local officials '.repeat(200);
let written = 0;
for (let n = 0; ; n++) {
  const line = JSON.stringify({
    type: 'attack',
    title: `Large line ${n}`,
    description: words.slice(0, 20_000),
    occurred: { start: '2024-03-01', precision: 'day' },
    location: { country: 'UKR', admin1: 'Kharkiv Oblast', precision: 'admin1' },
    tags: ['large-lines'],
    external_ids: { bench: `large-${n}` },
    reports: Array.from({ length: 95 }, (_, i) => ({
      reporter: { name: `Large-line reporter ${i % 7}`, kind: 'media' },
      reporter_role: 'third_party',
      stance: 'asserts',
      quote: words.slice(i, i + 10_000),
    })),
  });
  if (written + line.length + 1 > budget) break;
  if (!process.stdout.write(`${line}\n`)) await new Promise((resolve) => process.stdout.once('drain', resolve));
  written += line.length + 1;
}
