import type { Diagnostic } from '../core/diagnostic.js';
import { displayPath, type DocumentPath } from '../core/document-path.js';
import { entryOf, itemOf, type Item, type ItemSpec } from '../core/item-spec.js';
import { builtinRegistry, itemTable, type FerRegistry, type ItemKind, type SourceDefinition } from '../registry/index.js';
import type { ArgsSchema } from '../registry/registry.js';
import type { Locator } from '../schema/errors.js';
import { documentValidator, schemaValidator } from '../schema/index.js';
import type { Validator } from '../schema/validator.js';
import { isSchemaObject, plainSchema, type JsonSchemaObject } from '../schema/json-schema.js';
import { ClassWeight, DataSection } from '../schema/sections.js';
import type { DataConfig } from './types.js';

/**
 * The normalised config (Ludwig's idea: load into a fully populated object so no reader restates a
 * default). After validation, every item the config names is written out in full: a bare name
 * (`adam`) becomes `{adam: {learning_rate: 0.001, beta_1: 0.9, ...}}`, a bare source path becomes
 * `{csv: {path: ..., label_column: emotion, ...}}`, `majority_ratio` gets its noise. The defaults
 * come from the registry entries' argument schemas (ajv's useDefaults: the same pass that fills map
 * forms during validation), so a default is written once, in its entry. The result is still a valid
 * config: config.resolved.yaml can be read back as it is.
 */

type Plain = Record<string, unknown>;

function isMap(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const validators = new WeakMap<FerRegistry, WeakMap<object, Validator>>();

/** A validator that fills an entry's defaults into its arguments (compiled once per entry and registry). */
function argsValidator(registry: FerRegistry, schema: ArgsSchema | JsonSchemaObject): Validator {
  let perRegistry = validators.get(registry);
  if (perRegistry === undefined) validators.set(registry, (perRegistry = new WeakMap()));
  let validator = perRegistry.get(schema);
  if (validator === undefined) {
    validator = schemaValidator(registry, plainSchema(schema) as JsonSchemaObject);
    perRegistry.set(schema, validator);
  }
  return validator;
}

/** An item written out in full, or why it cannot be. */
type Filled = { item: Item } | { problem: string; unknown?: true; invalid?: true };

/** The arguments a source's value stands for: a bare string fills its shorthand argument. */
function sourceArguments(definition: SourceDefinition, value: unknown): Plain | undefined {
  if (typeof value === 'string') return definition.shorthand !== undefined ? { [definition.shorthand]: value } : undefined;
  if (value === null || value === undefined) return {};
  return isMap(value) ? { ...value } : undefined;
}

function fill(registry: FerRegistry, kind: ItemKind, spec: unknown): Filled | undefined {
  if (typeof spec !== 'string' && !(isMap(spec) && Object.keys(spec).length === 1)) return undefined;
  const { name } = entryOf(spec as ItemSpec);
  const table = itemTable(registry, kind);
  const definition = table.get(name);
  if (definition === undefined) return { problem: `unknown ${table.kind} \`${name}\``, unknown: true };
  const given = kind === 'source' ? sourceArguments(definition as SourceDefinition, (spec as Plain)[name]) : typeof spec === 'string' ? {} : (spec as Plain)[name];
  if (given !== null && given !== undefined && !isMap(given)) return undefined;
  const args = structuredClone(given ?? {}) as Plain;
  const validate = argsValidator(registry, definition.args);
  if (!validate(args)) {
    const missing = (validate.errors ?? []).filter((e) => e.keyword === 'required' && e.instancePath === '').map((e) => (e.params as { missingProperty: string }).missingProperty);
    if (missing.length > 0) return { problem: `\`${name}\` needs ${missing.map((m) => `\`${m}\``).join(' and ')}` };
  }
  const problem = (definition as { check?: (args: Plain) => string | undefined }).check?.(args);
  if (problem !== undefined) return { problem: `${name}: ${problem}`, invalid: true };
  return { item: itemOf(name, args) };
}

/**
 * One item in the normalised form, with every argument. For code handed a spec as a config would
 * write it (a bare name, a partial map): tests, benchmarks, the CLI. Throws on an unknown name or
 * missing required arguments.
 */
export function normalizeItem(registry: FerRegistry, kind: ItemKind, spec: ItemSpec | Item | Readonly<Record<string, unknown>>): Item {
  const filled = fill(registry, kind, spec);
  if (filled === undefined) throw new Error(`not a ${itemTable(registry, kind).kind}: ${JSON.stringify(spec)}`);
  if ('problem' in filled) throw new Error(filled.problem);
  return filled.item;
}

/** Holds the class weight so its schema's own default sits below the root (as ajv's strict mode wants). */
const CLASS_WEIGHT_HOLDER = { type: 'object', properties: { class_weight: ClassWeight } };

/** `data.class_weight` with the arguments of `majority_ratio` written out. */
function classWeight(registry: FerRegistry, value: unknown): unknown {
  const spec = value === 'majority_ratio' ? { majority_ratio: {} } : value;
  if (!isMap(spec)) return value;
  const holder = { class_weight: structuredClone(spec) };
  argsValidator(registry, CLASS_WEIGHT_HOLDER)(holder);
  return holder.class_weight;
}

/**
 * Normalises a validated config in place. Defensive like the semantic checks: it runs on configs
 * with errors too (validate compiles the sound parts), leaving alone what the schema rejected.
 * Reports what only shows when an item is written out: a bare name that needs arguments
 * (`resize` without height and width).
 */
export function normalizeConfig(config: Plain, registry: FerRegistry, locate: Locator): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const one = (holder: Plain | unknown[], key: string | number, kind: ItemKind, at: DocumentPath): void => {
    const spec = (holder as Plain)[key as string];
    const filled = fill(registry, kind, spec);
    if (filled === undefined) return;
    if ('item' in filled) {
      (holder as Plain)[key as string] = filled.item;
    } else if (filled.invalid) {
      diagnostics.push({ severity: 'error', code: 'schema', message: filled.problem, span: locate(at).span, path: displayPath(at) });
    } else if (!filled.unknown && typeof spec === 'string') {
      // A map form missing arguments was reported by the schema; a bare name passes it.
      diagnostics.push({
        severity: 'error',
        code: 'missing-key',
        message: `${filled.problem}: write it as a map with its arguments`,
        span: locate(at).span,
        path: displayPath(at),
        expected: `{${spec}: {...}}`,
      });
    }
  };
  const list = (holder: Plain, key: string, kind: ItemKind, at: DocumentPath): void => {
    const items = holder[key];
    if (Array.isArray(items)) items.forEach((_, i) => one(items, i, kind, [...at, key, i]));
  };

  const training = config.training;
  if (isMap(training)) {
    one(training, 'optimizer', 'optimizer', ['training', 'optimizer']);
    one(training, 'loss', 'loss', ['training', 'loss']);
    if (training.schedule !== null) one(training, 'schedule', 'schedule', ['training', 'schedule']);
    list(training, 'callbacks', 'callback', ['training']);
  }
  const evaluation = config.evaluation;
  if (isMap(evaluation)) list(evaluation, 'tta', 'test_time_view', ['evaluation']);
  const data = config.data;
  if (isMap(data)) {
    one(data, 'source', 'source', ['data', 'source']);
    list(data, 'preprocess', 'preprocessing', ['data']);
    list(data, 'augment', 'augmentation', ['data']);
    if (Array.isArray(data.augment)) diagnostics.push(...fusedTwice(data.augment, registry, locate));
    if ('class_weight' in data) data.class_weight = classWeight(registry, data.class_weight);
  }
  return diagnostics;
}

/** A warp or tone augmentation listed twice: the image gets one warp and one tone change, so a second would only replace the first. */
function fusedTwice(augment: unknown[], registry: FerRegistry, locate: Locator): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  augment.forEach((spec, i) => {
    if (!isMap(spec) || Object.keys(spec).length !== 1) return;
    const { name } = entryOf(spec as Item);
    const stage = registry.augmentations.get(name)?.stage;
    if (stage === undefined || stage === 'pixels') return;
    if (seen.has(name)) {
      const at: DocumentPath = ['data', 'augment', i];
      out.push({
        severity: 'error',
        code: 'schema',
        message: `\`${name}\` is listed twice: each image gets one ${stage === 'warp' ? 'warp' : 'tone change'}, made of one draw of each ${stage} augmentation`,
        span: locate(at).span,
        path: displayPath(at),
        hint: `keep one \`${name}\` entry`,
      });
    }
    seen.add(name);
  });
  return out;
}

/**
 * A whole data section from a partial one (`{source, cache}`), defaults filled and items
 * normalised as if it had been loaded from a config: for commands given a bare data path.
 */
export function completeDataSection(partial: Omit<Partial<DataConfig>, 'source'> & { source: unknown }, registry: FerRegistry = builtinRegistry()): DataConfig {
  const config: Plain = { data: structuredClone(partial) };
  const validate = documentValidator(registry);
  if (!validate(config)) throw new Error(`not a valid data section: ${validate.errors?.[0]?.message ?? 'unknown problem'}`);
  const nowhere = { span: { file: '<data>', start: { line: 1, column: 1 }, end: { line: 1, column: 1 } }, missing: 0 };
  const problems = normalizeConfig(config, registry, () => nowhere);
  if (problems.length > 0) throw new Error(problems[0]!.message);
  return config.data as DataConfig;
}

let dataDefaults: { image: DataConfig['image']; classes: string[] } | undefined;

/** The image shape and classes of a config without a data section: the data section's defaults. */
export function defaultImageAndClasses(): { image: DataConfig['image']; classes: string[] } {
  if (dataDefaults === undefined) {
    const section = plainSchema(DataSection) as JsonSchemaObject;
    const properties = isSchemaObject(section.properties) ? section.properties : {};
    const filled: Plain = {};
    argsValidator(builtinRegistry(), { type: 'object', properties: { image: properties.image, classes: properties.classes } })(filled);
    dataDefaults = filled as { image: DataConfig['image']; classes: string[] };
  }
  return dataDefaults;
}
