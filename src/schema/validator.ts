import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { JsonSchemaObject } from './json-schema.js';

// ajv's CommonJS default export arrives wrapped under NodeNext resolution.
const Ajv = AjvModule.default ?? (AjvModule as unknown as typeof AjvModule.default);

/**
 * One ajv setup for every schema fer compiles: all errors at once, defaults filled in, our
 * annotation keywords declared, and `format: path` known (it only marks fields resolved as paths).
 */
export function createAjv(): InstanceType<typeof Ajv> {
  const ajv = new Ajv({
    allErrors: true,
    useDefaults: true,
    verbose: true,
    strict: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    allowUnionTypes: true,
  });
  ajv.addKeyword({ keyword: 'x-expected', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'x-kind', schemaType: 'string' });
  ajv.addFormat('path', true);
  return ajv;
}

export type Validator = ValidateFunction;
export type SchemaError = ErrorObject;

/** Compiles a schema; a failure here is a bug in fer (or a plugin's schema), never a user error. */
export function compileSchema(ajv: InstanceType<typeof Ajv>, schema: JsonSchemaObject): Validator {
  return ajv.compile(schema);
}
