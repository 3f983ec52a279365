import type { FerRegistry } from '../registry/index.js';
import { documentSchema } from './index.js';
import { isSchemaObject, type JsonSchema, type JsonSchemaObject } from './json-schema.js';

/**
 * Where a config holds file paths: every field the schema marks `format: path` (data.source.csv,
 * data.cache, models.<name>.init.run, a plugin source's path...), found once per registry by
 * walking the document schema. `*` stands for any key of a map or any item of a list. config/load.ts
 * resolves a relative path in these fields against the folder of the file that wrote it.
 */
export type PathPattern = readonly string[];

const cache = new WeakMap<FerRegistry, PathPattern[]>();

export function pathFields(registry: FerRegistry): PathPattern[] {
  let found = cache.get(registry);
  if (found === undefined) {
    const document = documentSchema(registry);
    const definitions = isSchemaObject(document.definitions) ? (document.definitions as Record<string, JsonSchema>) : {};
    const patterns = new Map<string, PathPattern>();
    walk(document, [], definitions, new Set(), patterns);
    found = [...patterns.values()];
    cache.set(registry, found);
  }
  return found;
}

function walk(schema: JsonSchema, at: string[], definitions: Record<string, JsonSchema>, following: Set<string>, out: Map<string, PathPattern>): void {
  if (!isSchemaObject(schema)) return;
  if (schema.format === 'path') out.set(at.join('\u0000'), at);
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace(/^#\/definitions\//, '');
    // A definition that holds itself (layer lists inside templates) is walked once per path.
    if (!following.has(name) && definitions[name] !== undefined) walk(definitions[name]!, at, definitions, new Set([...following, name]), out);
  }
  for (const key of ['allOf', 'anyOf', 'oneOf']) {
    if (Array.isArray(schema[key])) for (const part of schema[key] as JsonSchema[]) walk(part, at, definitions, following, out);
  }
  for (const key of ['then', 'else']) walk(schema[key] as JsonSchema, at, definitions, following, out);
  if (isSchemaObject(schema.properties)) {
    for (const [key, value] of Object.entries(schema.properties as JsonSchemaObject)) walk(value as JsonSchema, [...at, key], definitions, following, out);
  }
  walk(schema.additionalProperties as JsonSchema, [...at, '*'], definitions, following, out);
  walk(schema.items as JsonSchema, [...at, '*'], definitions, following, out);
}
