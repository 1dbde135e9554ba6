// Query-string value shapes shared by list filters: comma-separated lists (a
// repeated parameter is accepted too), and booleans written as true/false.
//
// zod's input form of these (a string or an array of strings; the strings "true" and "false")
// is what the server parses, but not what a generated client should send: the OpenAPI
// document shows them as what they mean (an array of the items, comma style; a boolean),
// through documentedAs and openApiOverride below.
import { z } from 'zod';

type JsonSchema = Record<string, unknown>;

/** The OpenAPI schema to show for a zod schema instead of its input form. */
const documentedAs = new WeakMap<z.core.$ZodType, () => JsonSchema>();

/**
 * Marks a parameter's schema as a comma-separated array (style form, explode false): tidy.ts moves it to the parameter.
 */
export const COMMA_LIST_MARK = 'x-comma-list';

/** The JSON Schema of a list item; a named schema (EventStatus) as a $ref to its component. */
function itemSchema(item: z.ZodType): JsonSchema {
  const {
    $schema: _schema,
    $defs: _defs,
    id: _id,
    ...schema
  } = z.toJSONSchema(item, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const ref = typeof schema.$ref === 'string' ? /^#\/\$defs\/(.+)$/.exec(schema.$ref) : null;
  return ref ? { $ref: `#/components/schemas/${ref[1]}` } : schema;
}

/**
 * One item of a list parsed, or its violations added with the value named: "captur" is not one of ...
 * `hint` may say more about a value it recognises (why a path into an array is refused).
 */
function parseItem(
  item: z.ZodType,
  part: string,
  ctx: z.RefinementCtx,
  hint?: (part: string) => string | undefined,
): { value: unknown } | null {
  const result = item.safeParse(part);
  if (result.success) return { value: result.data };
  for (const issue of result.error.issues) {
    const known = issue.code === 'invalid_value' ? issue.values.map(String) : null;
    const why = hint?.(part);
    ctx.addIssue({
      code: 'custom',
      message: known
        ? `unknown value "${part}"${why ? ` (${why})` : ''}; known values: ${known.join(', ')}`
        : `"${part}": ${issue.message}`,
    });
  }
  return null;
}

/**
 * `a,b,c` (or `?x=a&x=b`) parsed into an array, each item checked by `item`; an item that is not
 * one of an enum's values is named with the known ones. `joined` says what several values mean;
 * `hint` adds a reason to the message of an unknown value.
 */
export function commaList<T extends z.ZodType<unknown, string>>(
  item: T,
  description: string,
  joined = 'several values separated by commas mean OR',
  hint?: (part: string) => string | undefined,
) {
  const schema = z
    .union([z.string(), z.array(z.string())])
    .transform((value, ctx) => {
      const parts = (Array.isArray(value) ? value : [value])
        .flatMap((part) => part.split(','))
        .map((part) => part.trim());
      const parsed: z.output<T>[] = [];
      let valid = true;
      for (const part of parts) {
        const one = parseItem(item, part, ctx, hint);
        if (one) parsed.push(one.value as z.output<T>);
        else valid = false;
      }
      return valid ? parsed : z.NEVER;
    })
    .pipe(z.array(z.custom<z.output<T>>()).min(1).max(100))
    .describe(`${description}; ${joined}`);
  documentedAs.set(schema, () => ({
    type: 'array',
    items: itemSchema(item),
    minItems: 1,
    maxItems: 100,
    [COMMA_LIST_MARK]: true,
  }));
  return schema;
}

export const QueryBoolean = z.enum(['true', 'false']).transform((value) => value === 'true');
documentedAs.set(QueryBoolean, () => ({ type: 'boolean' }));

/**
 * The `override` of zod's toJSONSchema for the OpenAPI document: documentedAs first, then what
 * fastify-type-provider-zod does by default for OpenAPI 3.1 (a union's empty branches dropped;
 * z.undefined(), only in responses such as a 204's, as null).
 */
export function openApiOverride(ctx: { zodSchema: z.core.$ZodType; jsonSchema: JsonSchema }): void {
  const documented = documentedAs.get(ctx.zodSchema);
  if (documented) {
    const { description } = ctx.jsonSchema;
    for (const key of Object.keys(ctx.jsonSchema)) delete ctx.jsonSchema[key];
    Object.assign(ctx.jsonSchema, documented(), description === undefined ? {} : { description });
    return;
  }
  if (ctx.zodSchema._zod.def.type === 'union' && Array.isArray(ctx.jsonSchema.anyOf))
    ctx.jsonSchema.anyOf = (ctx.jsonSchema.anyOf as JsonSchema[]).filter((branch) => Object.keys(branch).length > 0);
  if (ctx.zodSchema._zod.def.type === 'undefined') ctx.jsonSchema.type = 'null';
}
