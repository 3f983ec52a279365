import { Type, type SchemaOptions, type Static, type TObject, type TProperties, type TSchema, type TString, type TUnsafe } from '@sinclair/typebox';
import type { ItemSpec } from '../core/item-spec.js';

/**
 * Building blocks for argument schemas. They emit plain JSON Schema (draft-07) that both ajv and
 * editors understand. Unions are written as multi-type schemas or if/then/else rather than
 * anyOf, so a validator reports only the branch that applies (anyOf reports every branch).
 */

/** Where shared definitions live in the document schema. */
export const DEFS = '#/definitions';

/** Experiment, model and member names: they become folder names (and MLflow names), so no spaces or slashes. */
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]*$';
/** Template and parameter names: usable as `$name` in expressions. */
export const IDENTIFIER_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
/** Template names: identifiers, namespaced `plugin/name` for templates a plugin contributes. */
export const TEMPLATE_NAME_PATTERN = '^([a-z][a-z0-9_]*/)?[A-Za-z_][A-Za-z0-9_]*$';

/**
 * An object schema whose properties with a `default` are not required: they are always present
 * after validation (defaults are filled in), so their TypeScript type says so, while users may omit them.
 */
export function args<P extends TProperties>(properties: P, options: SchemaOptions = {}): TObject<P> {
  const schema = Type.Object(properties, { additionalProperties: false, ...options });
  const editable = schema as { required?: string[] };
  const required = (editable.required ?? []).filter((key) => (properties[key] as TSchema).default === undefined);
  if (required.length > 0) editable.required = required;
  else delete editable.required;
  return schema;
}

/** A string from a fixed list, typed as that union: `choice(['valid', 'same'], {default: 'valid'})`. */
export function choice<const T extends string>(values: readonly T[], options: SchemaOptions = {}): TUnsafe<T> {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });
}

export const PositiveInt = (options: SchemaOptions = {}) => Type.Integer({ minimum: 1, ...options });

/**
 * A file or folder path. `format: path` is what makes config/load.ts resolve a relative one against
 * the folder of the file that wrote it (schema/paths.ts finds every such field).
 */
export const PathString = (options: SchemaOptions = {}): TString => Type.String({ minLength: 1, format: 'path', ...options });

/** An integer or a pair of integers [height, width], as Keras accepts for kernel sizes and strides. */
export function intOrPair(options: SchemaOptions & { minimum?: number } = {}): TUnsafe<number | [number, number]> {
  const { minimum = 1, ...rest } = options;
  return Type.Unsafe<number | [number, number]>({
    type: ['integer', 'array'],
    minimum,
    items: { type: 'integer', minimum },
    minItems: 2,
    maxItems: 2,
    'x-expected': `an integer >= ${minimum} or a pair [height, width]`,
    ...rest,
  });
}

export const Padding = (options: SchemaOptions = {}) =>
  choice(['valid', 'same'], {
    default: 'valid',
    description: '`valid` (no padding, the output shrinks) or `same` (zero padding keeps the size at stride 1)',
    ...options,
  });

/** A probability-like rate in [0, 1). */
export const Rate = (options: SchemaOptions = {}) => Type.Number({ minimum: 0, exclusiveMaximum: 1, ...options });

/** A reference to a shared definition, with a default; wrapped in allOf so siblings are honoured everywhere. */
export function ref<T>(definition: string, options: SchemaOptions = {}): TUnsafe<T> {
  return Type.Unsafe<T>({ allOf: [{ $ref: `${DEFS}/${definition}` }], ...options });
}

export type { ItemSpec };

export const activationRef = (defaultName = 'linear', description?: string) =>
  ref<string>('activation', { default: defaultName, description: description ?? 'activation applied to the output' });

export const initializerRef = (defaultName: string, description: string) =>
  ref<ItemSpec>('initializer', { default: defaultName, description });

export const regularizerRef = (description: string) => Type.Optional(ref<RegularizerSpec | null>('regularizer', { description }));

export interface RegularizerSpec {
  l1?: number;
  l2?: number;
}

export type { Static, TObject, TSchema };
