import type { DefinitionWithArgs, Registry } from '../registry/registry.js';
import type { FerRegistry, SourceDefinition } from '../registry/index.js';
import type { TObject } from '@sinclair/typebox';
import {
  DataSection,
  EngineSection,
  EvaluationSection,
  EnsembleSection,
  FoldsSection,
  ParamDeclaration,
  TrackingSection,
  TrainingSection,
} from './sections.js';
import { isSchemaObject, plainSchema, type JsonSchema, type JsonSchemaObject } from './json-schema.js';
import { IDENTIFIER_PATTERN, NAME_PATTERN, TEMPLATE_NAME_PATTERN } from '../registry/schema-helpers.js';

/**
 * The JSON Schema of a whole experiment document, assembled from the registry so that a new layer
 * (built-in or plugin) is one registry entry and appears in validation, editor completion and docs.
 */
export const SCHEMA_DRAFT = 'http://json-schema.org/draft-07/schema#';

/** `$name` or `$(expression)`: a template expression, checked when the model is compiled. */
export const EXPRESSION_PATTERN = '^\\$([A-Za-z_][A-Za-z0-9_]*|\\(.*\\))$';

/** Keys a layer entry may carry besides its one layer type (or `use`). */
export const ENTRY_KEYS = ['use', 'with', 'name', 'input', 'inputs', 'if', 'repeat', 'trainable', 'doc'] as const;

export interface DocumentSchema {
  /** The published schema: layer arguments accept expressions (`$filters`) anywhere. */
  document: JsonSchemaObject;
  /** Definitions without expressions, used to check concrete layer arguments at compile time. */
  strictDefinitions: Record<string, JsonSchema>;
}

/** `name` or `{name: {arguments}}` for the entries of a registry. */
function itemSpec(registry: Registry<DefinitionWithArgs>, kind: string, example: string): JsonSchemaObject {
  const properties: Record<string, JsonSchema> = {};
  for (const d of registry.values()) {
    const argsSchema = plainSchema(d.args) as JsonSchemaObject;
    const hasRequired = Array.isArray(argsSchema.required) && argsSchema.required.length > 0;
    properties[d.type] = { ...argsSchema, type: hasRequired ? 'object' : ['object', 'null'], description: d.summary };
  }
  const expected = `a ${kind} name like \`${example}\`, or a map with one ${kind} and its arguments like {${example}: {...}}`;
  return {
    title: kind,
    'x-kind': kind,
    'x-expected': expected,
    if: { type: 'string' },
    then: { enum: registry.types(), 'x-kind': kind, 'x-expected': expected },
    else: {
      type: 'object',
      title: kind,
      'x-kind': kind,
      'x-expected': expected,
      properties,
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 1,
    },
  };
}

/**
 * `data.source`: a map with exactly one source and its arguments; a source with a shorthand also
 * takes a bare string for that argument (`csv: data.csv`), which keeps its `format` (a path).
 */
function sourceSpec(registry: Registry<SourceDefinition>): JsonSchemaObject {
  const properties: Record<string, JsonSchema> = {};
  for (const d of registry.values()) {
    const argsSchema = plainSchema(d.args) as JsonSchemaObject;
    const names = Object.keys(isSchemaObject(argsSchema.properties) ? argsSchema.properties : {});
    const short = d.shorthand !== undefined && isSchemaObject(argsSchema.properties) ? (argsSchema.properties[d.shorthand] as JsonSchemaObject | undefined) : undefined;
    properties[d.type] =
      short === undefined
        ? { ...argsSchema, type: 'object', description: d.summary }
        : {
            ...argsSchema,
            type: ['object', 'string'],
            ...(typeof short.format === 'string' ? { format: short.format } : {}),
            description: d.summary,
            'x-expected': `a ${short.format === 'path' ? 'path' : d.shorthand}, or {${names.slice(0, 2).map((n) => `${n}: ...`).join(', ')}${names.length > 2 ? ', ...' : ''}}`,
          };
  }
  return {
    title: 'data source',
    'x-kind': 'data source',
    type: 'object',
    description: `where the images come from: exactly one of ${registry.types().map((t) => `\`${t}\``).join(', ')}`,
    properties,
    additionalProperties: false,
    minProperties: 1,
    maxProperties: 1,
  };
}

const ANNOTATIONS = ['title', 'description', 'default', 'x-expected', 'x-kind', 'examples'];

/** Lets any value in `schema` (at any depth) be an expression instead; ajv then reports only the non-expression branch. */
export function relax(schema: JsonSchema): JsonSchema {
  if (!isSchemaObject(schema)) return schema;
  const outer: JsonSchemaObject = {};
  for (const key of ANNOTATIONS) if (key in schema) outer[key] = schema[key];
  return { ...outer, if: { $ref: '#/definitions/expression' }, then: true, else: relaxChildren(schema) };
}

function relaxChildren(schema: JsonSchema): JsonSchema {
  if (!isSchemaObject(schema)) return schema;
  const out: JsonSchemaObject = { ...schema };
  if (isSchemaObject(schema.properties)) {
    out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, relax(v as JsonSchema)]));
  }
  if (isSchemaObject(schema.items)) out.items = relax(schema.items);
  if (isSchemaObject(schema.additionalProperties)) out.additionalProperties = relax(schema.additionalProperties);
  for (const key of ['then', 'else']) if (isSchemaObject(schema[key])) out[key] = relaxChildren(schema[key] as JsonSchema);
  for (const key of ['allOf', 'anyOf', 'oneOf']) {
    if (Array.isArray(schema[key])) out[key] = (schema[key] as JsonSchema[]).map(relaxChildren);
  }
  return out;
}

/** Definition keys cannot hold `/` comfortably in a JSON pointer; plugin layers (`se/block`) use `.`. */
export function layerDefinitionKey(type: string): string {
  return `layer.${type.replace(/\//g, '.')}`;
}

function layerArgsSchema(args: TObject, summary: string): JsonSchemaObject {
  const schema = plainSchema(args) as JsonSchemaObject;
  const hasRequired = Array.isArray(schema.required) && schema.required.length > 0;
  return { ...schema, type: hasRequired ? 'object' : ['object', 'null'], description: summary };
}

const booleanOrExpression = (description: string): JsonSchemaObject => ({
  description,
  'x-expected': 'true, false or an expression like $(stride != 1)',
  if: { type: 'string' },
  then: { $ref: '#/definitions/expression' },
  else: { type: 'boolean' },
});

export function buildDocumentSchema(registry: FerRegistry): DocumentSchema {
  const strictDefinitions: Record<string, JsonSchema> = {
    activation: {
      title: 'activation',
      'x-kind': 'activation',
      type: 'string',
      enum: registry.activations.types(),
      description: 'an activation function name',
    },
    initializer: itemSpec(registry.initializers, 'initializer', 'he_normal'),
    regularizer: {
      title: 'regularizer',
      type: ['object', 'null'],
      properties: {
        l1: { type: 'number', minimum: 0, description: 'weight of the sum of absolute values' },
        l2: { type: 'number', minimum: 0, description: 'weight of the sum of squares' },
      },
      additionalProperties: false,
      minProperties: 1,
      'x-expected': 'a map like {l2: 1e-4} or {l1: 1e-5, l2: 1e-4}',
    },
  };
  for (const layer of registry.layers.values()) {
    strictDefinitions[layerDefinitionKey(layer.type)] = layerArgsSchema(layer.args, layer.summary);
  }

  const layerProperties: Record<string, JsonSchema> = {};
  for (const layer of registry.layers.values()) {
    layerProperties[layer.type] = { $ref: `#/definitions/${layerDefinitionKey(layer.type)}` };
  }
  const entryProperties: Record<string, JsonSchema> = {
    use: { type: 'string', minLength: 1, description: 'the name of a template to insert here' },
    with: { type: 'object', description: 'arguments for the template in `use`' },
    name: { type: 'string', minLength: 1, description: 'names the layer (or template instance) so later entries can take it as input' },
    input: { type: 'string', minLength: 1, description: 'take this named output as input instead of the previous entry' },
    inputs: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      minItems: 1,
      description: 'named outputs a merge layer (add, concat...) combines',
    },
    if: booleanOrExpression('leave the entry out when false (its name then stands for its input)'),
    repeat: {
      description: 'insert the entry this many times (`index` counts from 0 in expressions)',
      'x-expected': 'an integer >= 0 or an expression like $(blocks)',
      if: { type: 'string' },
      then: { $ref: '#/definitions/expression' },
      else: { type: 'integer', minimum: 0 },
    },
    trainable: { type: 'boolean', description: 'false freezes the weights of this entry' },
    doc: { type: 'string', description: 'a comment kept with the entry' },
  };

  const definitions: Record<string, JsonSchema> = {
    expression: {
      type: 'string',
      pattern: EXPRESSION_PATTERN,
      description: 'a template expression: `$name` or `$(expression)`',
    },
    activation: relax(strictDefinitions.activation!),
    initializer: relax(strictDefinitions.initializer!),
    regularizer: relax(strictDefinitions.regularizer!),
    optimizer: itemSpec(registry.optimizers, 'optimizer', 'adam'),
    loss: itemSpec(registry.losses, 'loss', 'categorical_crossentropy'),
    preprocessing: itemSpec(registry.preprocessing, 'preprocessing step', 'subtract_mean'),
    augmentation: itemSpec(registry.augmentations, 'augmentation', 'flip_horizontal'),
    schedule: itemSpec(registry.schedules, 'schedule', 'cosine'),
    callback: itemSpec(registry.callbacks, 'callback', 'early_stopping'),
    test_time_view: itemSpec(registry.testTimeViews, 'test-time view', 'flip'),
    source: sourceSpec(registry.sources),
    layer_entry: {
      title: 'layer entry',
      'x-kind': 'layer',
      'x-expected': 'a layer like {conv2d: {filters: 32, kernel_size: 3}}, a bare layer name like `flatten`, or {use: template}',
      if: { type: 'string' },
      then: { enum: registry.layers.types(), 'x-kind': 'layer' },
      else: {
        type: 'object',
        title: 'layer entry',
        'x-kind': 'layer',
        properties: { ...layerProperties, ...entryProperties },
        additionalProperties: false,
      },
    },
    layer_list: {
      type: 'array',
      items: { $ref: '#/definitions/layer_entry' },
      minItems: 1,
      description: 'layers applied in order; each takes the previous output unless it names its `input`',
    },
    model: {
      title: 'model',
      type: 'object',
      properties: {
        doc: { type: 'string', description: 'what the model is' },
        input: {
          type: 'array',
          items: { type: 'integer', minimum: 1 },
          minItems: 1,
          description: 'input shape without the batch, e.g. [48, 48, 1] (default: from data.image)',
        },
        layers: { $ref: '#/definitions/layer_list' },
        init: {
          type: 'object',
          title: 'initial weights',
          description: 'start from saved weights, matched by layer name: a member of a finished fer run, or a tfjs model.json',
          properties: {
            run: { type: 'string', minLength: 1, format: 'path', description: 'a fer run folder, or an experiment folder (runs/quick) for its finished run with the best accuracy; relative to this file' },
            member: { type: 'string', minLength: 1, default: 'best', description: 'with run: a member name, or best (highest out-of-fold accuracy)' },
            model: { type: 'string', minLength: 1, format: 'path', description: 'a TensorFlow.js model.json (e.g. from tensorflowjs_converter): a path relative to this file, or an http(s) URL (downloaded once)' },
            map: { type: 'object', additionalProperties: { type: 'string' }, description: 'layer name here -> layer name in the source, where they differ' },
            exclude: { type: 'array', items: { type: 'string' }, description: 'layers not to load (`*` matches within a name), e.g. a replaced head' },
            partial: { type: 'boolean', default: false, description: 'allow layers with no counterpart in the source (they start fresh)' },
          },
          additionalProperties: false,
          'x-expected': 'init: {run: runs/quick/run-ab12cd34ef56, member: best, exclude: [classifier_head_1/dense_1]}',
        },
        frozen: {
          type: 'array',
          items: { type: 'string', minLength: 1 },
          description: 'layers whose weights are not trained, by name (`*` matches within a name): conv_stack_*',
        },
      },
      required: ['layers'],
      additionalProperties: false,
    },
    template: {
      title: 'template',
      type: 'object',
      properties: {
        doc: { type: 'string', description: 'what the template builds' },
        params: {
          type: 'object',
          title: 'template parameters',
          additionalProperties: plainSchema(ParamDeclaration),
          propertyNames: { pattern: IDENTIFIER_PATTERN },
          description: 'the parameters a use passes in `with:`',
        },
        layers: { $ref: '#/definitions/layer_list' },
      },
      required: ['layers'],
      additionalProperties: false,
    },
  };
  for (const layer of registry.layers.values()) {
    const key = layerDefinitionKey(layer.type);
    definitions[key] = relax(strictDefinitions[key]!);
  }

  const document: JsonSchemaObject = {
    $schema: SCHEMA_DRAFT,
    title: 'fer experiment',
    description: 'A fer experiment: data, models built from layers and templates, training, folds, ensemble and tracking.',
    type: 'object',
    properties: {
      extends: {
        description: 'configs this one builds on (paths relative to this file, or `fer:templates/...`); later ones and this file win',
        type: ['string', 'array'],
        items: { type: 'string', minLength: 1 },
      },
      name: {
        type: 'string',
        pattern: NAME_PATTERN,
        description: 'the experiment name (default: the file name); names the runs folder and the MLflow experiment',
      },
      description: { type: 'string', description: 'what the experiment is about' },
      seed: { type: 'integer', minimum: 0, default: 0, description: 'every random choice (folds, weights, noise) derives from it' },
      data: plainSchema(DataSection),
      models: {
        type: 'object',
        title: 'models',
        additionalProperties: { $ref: '#/definitions/model' },
        propertyNames: { pattern: NAME_PATTERN },
        description: 'named networks, each a list of layers',
      },
      templates: {
        type: 'object',
        title: 'templates',
        additionalProperties: { $ref: '#/definitions/template' },
        propertyNames: { pattern: TEMPLATE_NAME_PATTERN },
        description: 'reusable, parameterised layer lists, inserted with `use:`',
      },
      plugins: {
        type: 'array',
        title: 'plugins',
        items: { type: 'string', minLength: 1 },
        default: [],
        description: 'plugins to load: a path relative to this file (./my-layer.ts), plugins/<name> (the project\'s or fer\'s), or an npm package; their layers are written <plugin>/<layer>',
      },
      training: { ...plainSchema(TrainingSection), default: {} },
      folds: plainSchema(FoldsSection),
      ensemble: plainSchema(EnsembleSection),
      evaluation: { ...plainSchema(EvaluationSection), default: {} },
      engine: { ...plainSchema(EngineSection), default: {} },
      tracking: { ...plainSchema(TrackingSection), default: {} },
      sweep: {
        type: 'object',
        title: 'sweep',
        description: 'a hyperparameter search run by `fer sweep` (docs/sweeps.md): each trial is this experiment with sampled values; `fer run` ignores it',
        properties: {
          parameters: { type: 'object', description: 'config paths (as --set takes them) -> a distribution: {choice: [...]}, {uniform: [a, b]}, {loguniform: [a, b]}, {int: [a, b], step: 1}, {grid: [...]}' },
          objective: { type: 'object', description: '{metric: accuracy | loss | macro_f1 | log_loss, split: validation | oof, direction: maximize | minimize}' },
          search: { type: ['string', 'object'], description: 'grid, random or tpe, or {method: tpe, seed: 1, startup_trials: 5}' },
          pruning: { type: ['string', 'object'], description: 'none, asha or median, or {method: asha, min_epochs: 1, reduction_factor: 3}' },
          budget: { type: 'object', description: '{trials: 20, minutes: 60, workers: 2}' },
        },
        additionalProperties: false,
      },
    },
    additionalProperties: false,
    definitions,
  };
  return { document, strictDefinitions };
}
