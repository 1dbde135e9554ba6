// The contract the fuzz suite works from: the OpenAPI document the app serves,
// every operation in it, and a JSON-schema validator (ajv, draft 2020-12, the
// dialect of OpenAPI 3.1) for the responses it declares.
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ValidateFunction } from 'ajv';

// Both are CommonJS; under Node's ESM loader their classes are on `.default`.
const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;

/** A JSON schema as it appears in the document: an open object. */
export type JsonSchema = { [keyword: string]: unknown };

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: JsonSchema;
}

export interface Operation {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** The path template, such as /v1/events/{id}. */
  path: string;
  operationId: string;
  parameters: Parameter[];
  /** The request body by media type, when the operation takes one. */
  body?: { required: boolean; content: Record<string, JsonSchema> };
  /** Declared responses: status (or "default") -> media type -> schema (undefined for no body). */
  responses: Record<string, Record<string, JsonSchema | undefined>>;
  /** Whether anonymous callers may use it (a security requirement with an empty alternative, none, or `[]`). */
  anonymous: boolean;
}

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, RawOperation>>;
  components: { schemas: Record<string, JsonSchema> };
}

interface RawOperation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { content?: Record<string, { schema?: JsonSchema }> }>;
  security?: Record<string, string[]>[];
}

const DOCUMENT_ID = 'https://contract.test/openapi.json';

/** A JSON pointer segment. */
const escape = (segment: string) => segment.replaceAll('~', '~0').replaceAll('/', '~1');

/** The media type of a Content-Type value, without parameters, lower case. */
export const mediaTypeOf = (contentType: string | undefined) => (contentType ?? '').split(';')[0]!.trim().toLowerCase();

export class Contract {
  readonly operations: Operation[];
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(readonly document: OpenApiDocument) {
    addFormats(this.ajv);
    // OpenAPI keywords that are not JSON Schema are annotations here.
    this.ajv.addKeyword({ keyword: 'example' });
    this.ajv.addSchema(structuredClone(document), DOCUMENT_ID);
    this.operations = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations).map(([method, raw]) => this.operationOf(path, method as Operation['method'], raw)),
    );
  }

  private operationOf(path: string, method: Operation['method'], raw: RawOperation): Operation {
    const responses: Operation['responses'] = {};
    for (const [status, response] of Object.entries(raw.responses)) {
      responses[status] = Object.fromEntries(
        Object.entries(response.content ?? {}).map(([type, media]) => [type, media.schema]),
      );
    }
    const operation: Operation = {
      method,
      path,
      operationId: raw.operationId,
      parameters: raw.parameters ?? [],
      responses,
      anonymous:
        !raw.security ||
        raw.security.length === 0 ||
        raw.security.some((requirement) => Object.keys(requirement).length === 0),
    };
    if (raw.requestBody) {
      operation.body = {
        required: raw.requestBody.required ?? false,
        content: Object.fromEntries(
          Object.entries(raw.requestBody.content).map(([type, media]) => [type, media.schema]),
        ),
      };
    }
    return operation;
  }

  operation(operationId: string): Operation {
    const found = this.operations.find((op) => op.operationId === operationId);
    if (!found) throw new Error(`no operation ${operationId} in the served document`);
    return found;
  }

  /** The operation serving `method` on the concrete (encoded) `path`, if the contract has one. */
  match(method: string, path: string): Operation | undefined {
    const wanted = method.toLowerCase() === 'head' ? 'get' : method.toLowerCase();
    return this.operations.find(
      (op) => op.method === wanted && new RegExp(`^${op.path.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path),
    );
  }

  /** A schema with its $refs followed (one level at a time), for generators. */
  resolve(schema: JsonSchema): JsonSchema {
    let current = schema;
    for (let depth = 0; typeof current.$ref === 'string'; depth++) {
      if (depth > 20) throw new Error(`$ref loop at ${String(current.$ref)}`);
      const name = current.$ref.replace('#/components/schemas/', '');
      const target = this.document.components.schemas[name];
      if (!target) throw new Error(`unresolved ${String(current.$ref)}`);
      const { $ref: _ref, ...siblings } = current;
      current = { ...target, ...siblings };
    }
    return current;
  }

  /** The component name a $ref names, if any. */
  static refName(schema: JsonSchema): string | undefined {
    return typeof schema.$ref === 'string' ? schema.$ref.replace('#/components/schemas/', '') : undefined;
  }

  /** A validator for the schema of `operation`'s response `status` in `mediaType` (compiled once), in the document `documentId`. */
  private validatorFor(
    operation: Operation,
    status: string,
    mediaType: string,
    documentId = DOCUMENT_ID,
  ): ValidateFunction {
    const pointer = ['paths', operation.path, operation.method, 'responses', status, 'content', mediaType, 'schema']
      .map(escape)
      .map(encodeURIComponent)
      .join('/');
    let validate = this.validators.get(`${documentId}#/${pointer}`);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${documentId}#/${pointer}` });
      this.validators.set(`${documentId}#/${pointer}`, validate);
    }
    return validate;
  }

  /** A validator for a component schema, such as Event or Problem (of the document `documentId`). */
  componentValidator(name: string, documentId = DOCUMENT_ID): ValidateFunction {
    const key = `${documentId}#component:${name}`;
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${documentId}#/components/schemas/${escape(name)}` });
      this.validators.set(key, validate);
    }
    return validate;
  }

  /** The documents with Event cut to a sparse fieldset, by the selection's paths. */
  private readonly sparseDocuments = new Map<string, string>();

  /**
   * The id of the served document with the Event schema cut to the members `fields=` selects (id always): those are
   * required and no other is allowed, nested objects alike. The `fields` parameter says an answer's events carry only
   * the members selected; every other rule of the schema still holds.
   */
  withFields(fields: readonly string[]): string {
    const key = [...new Set(fields)].sort().join(',');
    let documentId = this.sparseDocuments.get(key);
    if (!documentId) {
      documentId = `${DOCUMENT_ID}?fields=${this.sparseDocuments.size}`;
      const document = structuredClone(this.document);
      document.components.schemas.Event = this.sparseOf(this.document.components.schemas.Event!, ['id', ...fields]);
      this.ajv.addSchema(document, documentId);
      this.sparseDocuments.set(key, documentId);
    }
    return documentId;
  }

  private sparseOf(schema: JsonSchema, paths: readonly string[]): JsonSchema {
    const resolved = this.resolve(schema);
    // Each member selected: [] whole, or the paths inside it.
    const members = new Map<string, string[]>();
    for (const path of paths) {
      const [head, ...rest] = path.split('.') as [string, ...string[]];
      const inside = members.get(head);
      if (rest.length === 0) members.set(head, []);
      else if (!inside) members.set(head, [rest.join('.')]);
      else if (inside.length > 0) inside.push(rest.join('.'));
    }
    const properties = resolved.properties as Record<string, JsonSchema>;
    return {
      ...resolved,
      properties: Object.fromEntries(
        [...members].map(([key, inside]) => [
          key,
          inside.length > 0 ? this.sparseOf(properties[key]!, inside) : properties[key]!,
        ]),
      ),
      required: [...members.keys()],
      additionalProperties: false,
    };
  }

  /**
   * The declared media types of a response status, or undefined when the status is not declared
   * (the `default` response counts for 5xx only: it describes 500 and 503).
   */
  declared(operation: Operation, status: number): Record<string, JsonSchema | undefined> | undefined {
    return operation.responses[String(status)] ?? (status >= 500 ? operation.responses.default : undefined);
  }

  /** Problems with `body` as the response `status` in `mediaType` of `operation`; empty when it conforms. */
  validate(operation: Operation, status: number, mediaType: string, body: unknown, documentId = DOCUMENT_ID): string[] {
    const declared = this.declared(operation, status);
    if (!declared) return [`status ${status} is not declared`];
    if (!(mediaType in declared))
      return [`media type ${mediaType} is not declared for ${status} (${Object.keys(declared).join(', ')})`];
    const validate = this.validatorFor(operation, String(status), mediaType, documentId);
    if (validate(body)) return [];
    return (validate.errors ?? [])
      .slice(0, 5)
      .map((error) => `${error.instancePath || '/'} ${error.message ?? ''} ${JSON.stringify(error.params)}`);
  }
}
