import type { FerRegistry } from '../registry/index.js';
import { buildDocumentSchema, layerDefinitionKey, type DocumentSchema } from './document.js';
import type { JsonSchemaObject } from './json-schema.js';
import { compileSchema, createAjv, type Validator } from './validator.js';

/**
 * Compiled validators, built once per registry (a registry changes only when plugins load).
 * Compiling the document schema is the slow part of startup, so it happens at most once per process.
 */
interface Compiled {
  schema: DocumentSchema;
  ajv: ReturnType<typeof createAjv>;
  document?: Validator;
  layers: Map<string, Validator>;
  /** Keyed by the schema's JSON: callers build equal schemas afresh (template parameters, item arguments). */
  other: Map<string, Validator>;
}

const cache = new WeakMap<FerRegistry, Compiled>();

function compiled(registry: FerRegistry): Compiled {
  let entry = cache.get(registry);
  if (entry === undefined) {
    entry = { schema: buildDocumentSchema(registry), ajv: createAjv(), layers: new Map(), other: new Map() };
    cache.set(registry, entry);
  }
  return entry;
}

export function documentSchema(registry: FerRegistry): JsonSchemaObject {
  return compiled(registry).schema.document;
}

export function documentValidator(registry: FerRegistry): Validator {
  const entry = compiled(registry);
  entry.document ??= compileSchema(entry.ajv, entry.schema.document);
  return entry.document;
}

/** Checks concrete arguments of one layer type (no expressions left), filling in defaults. */
export function layerArgsValidator(registry: FerRegistry, type: string): Validator {
  const entry = compiled(registry);
  let validator = entry.layers.get(type);
  if (validator === undefined) {
    const key = layerDefinitionKey(type);
    const args = entry.schema.strictDefinitions[key] as JsonSchemaObject;
    validator = compileSchema(entry.ajv, { ...args, definitions: entry.schema.strictDefinitions });
    entry.layers.set(type, validator);
  }
  return validator;
}

/** Any other schema (template parameters, registry item arguments), compiled once per distinct schema. */
export function schemaValidator(registry: FerRegistry, schema: JsonSchemaObject): Validator {
  const entry = compiled(registry);
  const key = JSON.stringify(schema);
  let validator = entry.other.get(key);
  if (validator === undefined) {
    validator = compileSchema(entry.ajv, { ...schema, definitions: entry.schema.strictDefinitions });
    entry.other.set(key, validator);
  }
  return validator;
}

export { buildDocumentSchema, layerDefinitionKey };
export type { DocumentSchema };
