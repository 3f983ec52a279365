import type { ParamDeclarationConfig, ParamType } from './sections.js';
import type { JsonSchemaObject } from './json-schema.js';

/**
 * Template parameters are declared with a small vocabulary (`integer`, `list`, `choices`...) and
 * checked by compiling each declaration to JSON Schema, so arguments get the same messages as the rest.
 */
const TYPE_SCHEMAS: Record<ParamType, JsonSchemaObject> = {
  integer: { type: 'integer' },
  number: { type: 'number' },
  boolean: { type: 'boolean' },
  string: { type: 'string' },
  list: { type: 'array' },
  any: {},
};

const TYPE_WORDS: Record<ParamType, string> = {
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  string: 'a string',
  list: 'a list',
  any: 'any value',
};

/** Names every expression can use, so a parameter cannot take them. */
export const SCOPE_NAMES = ['index', 'in_shape', 'in_channels', 'classes', 'input_shape', 'input'] as const;
export const EXPRESSION_FUNCTIONS = ['len', 'min', 'max', 'floor', 'ceil', 'round', 'abs', 'range'] as const;
export const RESERVED_PARAM_NAMES: ReadonlySet<string> = new Set<string>([
  ...SCOPE_NAMES,
  ...EXPRESSION_FUNCTIONS,
  'true',
  'false',
  'null',
]);

export interface NormalizedParam {
  type: ParamType;
  hasDefault: boolean;
  default?: unknown;
  doc?: string;
  schema: JsonSchemaObject;
  /** "an integer >= 1", for messages. */
  describe: string;
}

export function normalizeParam(name: string, declaration: ParamDeclarationConfig): NormalizedParam {
  const decl = typeof declaration === 'string' ? { type: declaration } : declaration;
  const schema: JsonSchemaObject = { ...TYPE_SCHEMAS[decl.type], title: `template parameter \`${name}\`` };
  const words = [TYPE_WORDS[decl.type]];
  if (decl.type === 'list' && decl.items) {
    schema.items = TYPE_SCHEMAS[decl.items];
    words[0] = `a list of ${decl.items === 'any' ? 'values' : `${decl.items}s`}`;
  }
  if (decl.minimum !== undefined) {
    schema.minimum = decl.minimum;
    words.push(`>= ${decl.minimum}`);
  }
  if (decl.maximum !== undefined) {
    schema.maximum = decl.maximum;
    words.push(`<= ${decl.maximum}`);
  }
  if (decl.choices !== undefined) {
    schema.enum = decl.choices;
    words.push(`one of ${decl.choices.map((c) => JSON.stringify(c)).join(', ')}`);
  }
  const describe = words.join(' ');
  schema['x-expected'] = describe;
  return {
    type: decl.type,
    hasDefault: 'default' in decl,
    ...('default' in decl ? { default: decl.default } : {}),
    ...(decl.doc !== undefined ? { doc: decl.doc } : {}),
    schema,
    describe,
  };
}
