// ACLED's event_date as files carry it: ACLED's codebook form (2024-08-05), its web exports'
// ("5 August 2024", "05-August-2024"), and what a spreadsheet writes after opening one
// ("5-Aug-24", "August 5, 2024", "05/08/2024", "2024-08-05 00:00:00"). Home-made rather than
// a date library's parser: those take one expected format, and a file gives no format, so
// the rule for day/month against month/day (refuse unless the numbers decide it) is ours anyway.

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const WEEKDAY = /^(mon|tue|wed|thu|fri|sat|sun)[a-z]*$/i;

/** A month's number (1-12) from its English name, in full or by its first three letters (or "Sept"); 0 if neither. */
function monthNumber(name: string): number {
  const lower = name.toLowerCase();
  const match = MONTHS.findIndex(
    (full) =>
      full === lower || (lower.length === 3 && full.startsWith(lower)) || (lower === 'sept' && full === 'september'),
  );
  return match + 1;
}

/**
 * A year of two digits as spreadsheets read it: 00-29 are 2000-2029, 30-99 are 1930-1999 (ACLED's data start in 1997).
 */
const fullYear = (digits: string): number =>
  digits.length === 4 ? Number(digits) : Number(digits) < 30 ? 2000 + Number(digits) : 1900 + Number(digits);

/** YYYY-MM-DD of a calendar day, or null when there is no such day (31 February). */
function calendarDay(year: number, month: number, day: number): string | null {
  const date = new Date(Date.UTC(year, month - 1, day));
  if (year < 1 || date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day)
    return null;
  return date.toISOString().slice(0, 10);
}

const monthName = (month: number) => MONTHS[month - 1]!.replace(/^./, (c) => c.toUpperCase());

export type ParsedDate = { date: string } | { error: string };

/**
 * The calendar date of an event_date cell, or why it is not one. Read: year-month-day (also
 * with / or . and with a time after it); day, month name, year ("5 August 2024", "5-Aug-24",
 * "05-August-2024"); month name, day, year ("August 5, 2024"), with or without a weekday
 * before it; and day and month as numbers ("21/03/2020", "03/21/2020") when the numbers decide
 * which is which, since one file may hold both orders: "05/08/2024" is refused as ambiguous.
 */
export function parseAcledDate(text: string): ParsedDate {
  const unreadable: ParsedDate = {
    error: `"${text}" is not a date (read are forms such as 2024-08-05, 5 August 2024, 5-Aug-24, August 5, 2024 and 21/03/2020)`,
  };
  const iso =
    /^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(text);
  if (iso) {
    const date = calendarDay(Number(iso[1]), Number(iso[3]), Number(iso[4]));
    return date ? { date } : unreadable;
  }
  const tokens = text.split(/[\s,./-]+/).filter(Boolean);
  if (tokens.length === 4 && WEEKDAY.test(tokens[0]!)) tokens.shift();
  if (tokens.length !== 3) return unreadable;
  const named = tokens.findIndex((token) => /^[a-z]+$/i.test(token));
  let year: string;
  let month: number;
  let day: string;
  if (named >= 0) {
    month = monthNumber(tokens[named]!);
    const numbers = tokens.filter((_, index) => index !== named);
    // "5 August 2024", "5-Aug-24" (name in the middle) and "August 5, 2024" (name first): the day comes before the
    // year.
    if (month === 0 || named === 2 || !numbers.every((token) => /^\d+$/.test(token))) return unreadable;
    [day, year] = numbers as [string, string];
  } else {
    if (!tokens.every((token) => /^\d+$/.test(token))) return unreadable;
    const [first, second] = tokens.map(Number) as [number, number];
    year = tokens[2]!;
    if (first === second || (first > 12 && second <= 12)) [day, month] = [tokens[0]!, second];
    else if (second > 12 && first <= 12) [day, month] = [tokens[1]!, first];
    else if (first <= 12 && second <= 12) {
      return {
        error:
          `"${text}" is ambiguous: ${first} ${monthName(second)} (day/month) or ${second} ${monthName(first)} (month/day)? ` +
          'Write dates as year-month-day (2024-08-05) or with the month by name (5 August 2024)',
      };
    } else return unreadable;
  }
  if (!/^\d{1,2}$/.test(day) || !/^(\d{2}|\d{4})$/.test(year)) return unreadable;
  const date = calendarDay(fullYear(year), month, Number(day));
  return date ? { date } : unreadable;
}
