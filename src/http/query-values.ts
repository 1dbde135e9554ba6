// Query-string value shapes shared by list filters: comma-separated lists (a
// repeated parameter is accepted too), and booleans written as true/false.
import { z } from 'zod';

/** `a,b,c` (or `?x=a&x=b`) parsed into an array, each item checked by `item`. */
export function commaList<T extends z.ZodType<unknown, string>>(item: T, description: string) {
  return z
    .union([z.string(), z.array(z.string())])
    .transform((value) => (Array.isArray(value) ? value : [value]).flatMap((part) => part.split(',')).map((part) => part.trim()))
    .pipe(z.array(item).min(1).max(100))
    .describe(`${description}; several values separated by commas mean OR`);
}

export const QueryBoolean = z.enum(['true', 'false']).transform((value) => value === 'true');
