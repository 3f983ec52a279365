import type { FerRegistry } from '../registry/index.js';
import type { LayerFamily } from '../registry/layer-definition.js';
import { documentSchema } from './index.js';
import { isSchemaObject, plainSchema, type JsonSchemaObject } from './json-schema.js';

/**
 * The config reference (docs/config-reference.md), generated from the registry and the document
 * schema so it cannot drift from what fer accepts (a test compares it with the committed file).
 */
function typeOf(schema: JsonSchemaObject): string {
  const expected = schema['x-expected'];
  if (typeof expected === 'string' && expected.length < 60) return expected;
  const inner = isSchemaObject(schema.else) ? schema.else : schema;
  if (Array.isArray(inner.allOf) && isSchemaObject(inner.allOf[0])) {
    const ref = String(inner.allOf[0].$ref ?? '');
    return ref.slice(ref.lastIndexOf('/') + 1);
  }
  if (Array.isArray(inner.enum)) return inner.enum.map((v) => `\`${String(v)}\``).join(' or ');
  if (Array.isArray(inner.anyOf)) return inner.anyOf.map((s) => (isSchemaObject(s) ? typeOf(s) : '')).join(' or ');
  const type = inner.type;
  const name = Array.isArray(type) ? type.join(' or ') : String(type ?? 'any');
  if (name === 'array' && isSchemaObject(inner.items)) return `list of ${typeOf(inner.items)}`;
  const bounds: string[] = [];
  if (typeof inner.minimum === 'number') bounds.push(`>= ${inner.minimum}`);
  if (typeof inner.exclusiveMinimum === 'number') bounds.push(`> ${inner.exclusiveMinimum}`);
  if (typeof inner.maximum === 'number') bounds.push(`<= ${inner.maximum}`);
  if (typeof inner.exclusiveMaximum === 'number') bounds.push(`< ${inner.exclusiveMaximum}`);
  return bounds.length > 0 ? `${name} ${bounds.join(', ')}` : name;
}

function escape(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function defaultOf(schema: JsonSchemaObject, required: boolean): string {
  if ('default' in schema) return `\`${JSON.stringify(schema.default)}\``;
  return required ? '**required**' : '';
}

/** A table of the properties of an object schema: key, type, default, description. */
function propertyTable(schema: JsonSchemaObject): string[] {
  const properties = isSchemaObject(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const rows = ['| key | type | default | description |', '|---|---|---|---|'];
  for (const [key, value] of Object.entries(properties)) {
    if (!isSchemaObject(value)) continue;
    const description = typeof value.description === 'string' ? value.description : '';
    rows.push(`| \`${key}\` | ${escape(typeOf(value))} | ${defaultOf(value, required.has(key))} | ${escape(description)} |`);
  }
  return rows.length > 2 ? rows : ['(no arguments)'];
}

const FAMILY_TITLES: Record<LayerFamily, string> = {
  convolution: 'Convolution',
  dense: 'Dense',
  normalization: 'Normalization',
  regularization: 'Regularization (dropout and noise)',
  pooling: 'Pooling',
  shape: 'Shape',
  activation: 'Activation',
  merge: 'Merging branches',
  plugin: 'Plugins',
};

export function configReference(registry: FerRegistry): string {
  const schema = documentSchema(registry);
  const properties = schema.properties as Record<string, JsonSchemaObject>;
  const definitions = schema.definitions as Record<string, JsonSchemaObject>;
  const out: string[] = [
    '# fer config reference',
    '',
    '<!-- Generated from the registry and the JSON Schema by `npm run generate`; a test keeps it in step. Do not edit by hand. -->',
    '',
    'A config is a YAML map of the sections below. Every key is checked: an unknown key is an error with a',
    'did-you-mean. Defaults are filled in and recorded with each run. The JSON Schema is in',
    '`schema/fer.schema.json` (also printed by `fer schema`).',
    '',
    '## Top level',
    '',
    ...propertyTable(schema),
    '',
  ];
  for (const section of ['data', 'training', 'evaluation', 'folds', 'ensemble', 'tracking']) {
    const s = properties[section]!;
    out.push(`## \`${section}\``, '', ...propertyTable(s), '');
    if (section === 'data') {
      const source = definitions.source!;
      out.push('### `data.source` (exactly one of)', '');
      for (const [key, value] of Object.entries(source.properties as Record<string, JsonSchemaObject>)) {
        const shorthand = typeof value['x-expected'] === 'string' ? ` Also written as ${value['x-expected'].replace(/, or .*$/, '')} alone.` : '';
        out.push(`#### \`${key}\``, '', `${String(value.description ?? '')}${shorthand}`, '', ...propertyTable(value), '');
      }
    }
    if (section === 'ensemble') {
      const member = (s.properties as Record<string, JsonSchemaObject>).members!.items as JsonSchemaObject;
      out.push('### `ensemble.members[]`', '', ...propertyTable(member), '');
    }
  }

  out.push(
    '## `models` and `templates`',
    '',
    '`models` maps a model name to a model; `templates` maps a template name to a reusable layer list.',
    '',
    '### A model',
    '',
    ...propertyTable(definitions.model!),
    '',
    '### A template',
    '',
    ...propertyTable(definitions.template!),
    '',
    'A template parameter is a type (`integer`, `number`, `boolean`, `string`, `list`, `any`) or a map:',
    '',
    ...propertyTable(((definitions.template!.properties as Record<string, JsonSchemaObject>).params!.additionalProperties as JsonSchemaObject).else as JsonSchemaObject),
    '',
    '### A layer entry',
    '',
    'Each item of a `layers` list is one layer type with its arguments (`- conv2d: {filters: 32, kernel_size: 3}`),',
    'a bare layer name when the defaults suffice (`- flatten`), or `use: <template>`. Next to it an entry may have:',
    '',
    ...propertyTable({
      properties: Object.fromEntries(
        Object.entries(((definitions.layer_entry!.else as JsonSchemaObject).properties as Record<string, JsonSchemaObject>)).filter(
          ([key]) => !registry.layers.has(key),
        ),
      ),
    }),
    '',
    '### Expressions',
    '',
    'Any value in a layer list may be `$name` or `$(expression)`, evaluated when the model is built. Names: the',
    "template's parameters, `index` (in a repeated entry, from 0), `in_shape` and `in_channels` (the entry's input,",
    'without the batch), `classes` (number of classes) and `input_shape`. Operators: `+ - * / % **`, comparisons,',
    '`&& || !`, `c ? a : b`, lists `[a, b]`, `x[i]`, `x.length`; functions `len min max floor ceil round abs range`.',
    'Inside a longer string, `$name` and `$(...)` are replaced by their text; `$$` is a literal `$`. Quote an',
    'expression that holds `: ` or, inside `{...}`, a `,` or `[`: `strides: "$(index == 0 ? 2 : 1)"`.',
    'When a value made from a template parameter is wrong (an unknown activation, a kernel too big for the image,',
    '`input: $from` naming no entry), the error is at the argument where the `use` gives it (even through templates',
    "that pass it on), with the template's line as a note; a value from the parameter's default stays the template's.",
    '',
    '## Layers',
    '',
  );
  const families = new Map<LayerFamily, typeof registry.layers extends { values(): (infer T)[] } ? T[] : never>();
  for (const layer of registry.layers.values()) {
    const list = families.get(layer.family) ?? [];
    list.push(layer);
    families.set(layer.family, list);
  }
  for (const [family, layers] of families) {
    out.push(`### ${FAMILY_TITLES[family]}`, '');
    for (const layer of layers) {
      out.push(
        `#### \`${layer.type}\`${layer.keras ? ` (Keras \`${layer.keras}\`)` : ''}`,
        '',
        layer.summary + (layer.inputs === 'multiple' ? ' Takes `inputs: [a, b, ...]`.' : ''),
        '',
        ...propertyTable(plainSchema(layer.args) as JsonSchemaObject),
        '',
      );
    }
  }
  const itemSection = (title: string, entries: { type: string; summary: string; keras?: string; args?: unknown }[]) => {
    out.push(`## ${title}`, '');
    for (const d of entries) {
      const args = d.args ? (plainSchema(d.args) as JsonSchemaObject) : undefined;
      const hasArgs = args && isSchemaObject(args.properties) && Object.keys(args.properties).length > 0;
      out.push(`- \`${d.type}\`${d.keras ? ` (Keras \`${d.keras}\`)` : ''}: ${d.summary}`);
      if (hasArgs) {
        const argList = Object.entries(args.properties as Record<string, JsonSchemaObject>)
          .map(([k, v]) => `\`${k}\`${'default' in v ? ` = ${JSON.stringify(v.default)}` : ''}`)
          .join(', ');
        out.push(`  Arguments: ${argList}.`);
      }
    }
    out.push('');
  };
  out.push(
    'Registry items (initializers, optimizers, losses, schedules, preprocessing steps, augmentations, callbacks, test-time views) are written',
    'as a name, `he_normal`, or a map with one name and its arguments, `{variance_scaling: {scale: 2}}`. A loaded config',
    'holds every item written out with all its arguments (the defaults below filled in); that is what runs record.',
    '',
  );
  itemSection('Activations', registry.activations.values());
  itemSection('Initializers', registry.initializers.values());
  itemSection('Optimizers', registry.optimizers.values());
  itemSection('Losses', registry.losses.values());
  itemSection('Learning-rate schedules', registry.schedules.values());
  itemSection('Preprocessing steps', registry.preprocessing.values());
  itemSection('Augmentations', registry.augmentations.values().map((d) => ({ ...d, summary: `${d.summary} Stage: ${d.stage}.` })));
  itemSection('Training callbacks', registry.callbacks.values());
  itemSection('Test-time views', registry.testTimeViews.values());
  out.push(
    '## Regularizers',
    '',
    '`kernel_regularizer`, `bias_regularizer` and the like take `{l1: x}`, `{l2: x}` or both; 0 (or absent) means none.',
    '',
  );
  return out.join('\n');
}
