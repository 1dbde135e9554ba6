// Reads docs/cookbook.md as a list of examples and checks an answer against what the page
// shows. The page's convention (written at its top): each ```sh block is one example; the
// block right after it, ```json or ```text, is what it prints. Shown JSON matches when every key
// it shows has the shown value ("..." stands for any value, a string ending in "..." for any
// string that starts so, and a trailing "..." element of an array for any further elements);
// shown text matches line by line, where a line "..." stands for any lines and "..." inside a
// line for any characters.

export interface Example {
  /** 1-based line of the ```sh fence in the page. */
  line: number;
  command: string;
  /** What the page shows it prints, if anything. */
  shown?: { kind: 'json' | 'text'; text: string };
}

/** Every ```sh block of the page in order, each with the output block that follows it. */
export function examplesOf(markdown: string): Example[] {
  const lines = markdown.split('\n');
  const blocks: { line: number; lang: string; text: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    blocks.push({ line: start + 1, lang: open[1]!, text: body.join('\n') });
  }
  const examples: Example[] = [];
  blocks.forEach((block, index) => {
    if (block.lang !== 'sh') return;
    const next = blocks[index + 1];
    const kind: 'json' | 'text' | undefined = next?.lang === 'json' || next?.lang === 'text' ? next.lang : undefined;
    const shown = kind && next ? { kind, text: next.text } : undefined;
    examples.push({ line: block.line, command: block.text, ...(shown ? { shown } : {}) });
  });
  return examples;
}

const ANY = '...';

/** Where `actual` differs from `shown` (a JSON pointer and what was expected), or null when it matches. */
export function jsonMismatch(shown: unknown, actual: unknown, path = ''): string | null {
  if (shown === ANY) return actual === undefined ? `${path || '/'}: missing` : null;
  if (typeof shown === 'string' && shown.endsWith(ANY) && typeof actual === 'string') {
    return actual.startsWith(shown.slice(0, -ANY.length))
      ? null
      : `${path || '/'}: ${JSON.stringify(actual)} does not start with ${JSON.stringify(shown.slice(0, -3))}`;
  }
  if (Array.isArray(shown)) {
    if (!Array.isArray(actual)) return `${path || '/'}: expected an array, got ${JSON.stringify(actual)?.slice(0, 80)}`;
    const open = shown.at(-1) === ANY;
    const items = open ? shown.slice(0, -1) : shown;
    if (open ? actual.length < items.length : actual.length !== items.length)
      return `${path || '/'}: expected ${open ? 'at least ' : ''}${items.length} element(s), got ${actual.length}`;
    for (let i = 0; i < items.length; i++) {
      const mismatch = jsonMismatch(items[i], actual[i], `${path}/${i}`);
      if (mismatch) return mismatch;
    }
    return null;
  }
  if (shown !== null && typeof shown === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual))
      return `${path || '/'}: expected an object, got ${JSON.stringify(actual)?.slice(0, 80)}`;
    for (const [key, value] of Object.entries(shown)) {
      const mismatch = jsonMismatch(value, (actual as Record<string, unknown>)[key], `${path}/${key}`);
      if (mismatch) return mismatch;
    }
    return null;
  }
  return Object.is(shown, actual)
    ? null
    : `${path || '/'}: expected ${JSON.stringify(shown)}, got ${JSON.stringify(actual)}`;
}

/** A shown line as a regular expression: "..." inside it is any characters. */
const lineExpression = (line: string) =>
  new RegExp(
    `^${line
      .split(ANY)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );

/** Whether every shown line matches the actual lines in order ("..." alone: any lines, none included). */
export function textMatches(shown: string, actual: string): boolean {
  const want = shown.split('\n');
  const got = actual.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n');
  const match = (w: number, g: number): boolean => {
    if (w === want.length) return g === got.length;
    if (want[w] === ANY) {
      for (let skip = g; skip <= got.length; skip++) if (match(w + 1, skip)) return true;
      return false;
    }
    return g < got.length && lineExpression(want[w]!).test(got[g]!) && match(w + 1, g + 1);
  };
  return match(0, 0);
}
