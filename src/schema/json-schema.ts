/** A JSON Schema node as plain data (what ajv and editors read). */
export type JsonSchema = { [keyword: string]: unknown } | boolean;
export type JsonSchemaObject = { [keyword: string]: unknown };

export function isSchemaObject(value: unknown): value is JsonSchemaObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A deep copy without TypeBox's symbol-keyed metadata: what gets published and compiled. */
export function plainSchema<T>(schema: T): T {
  return JSON.parse(JSON.stringify(schema)) as T;
}
