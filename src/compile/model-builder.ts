import type * as tfjs from '@tensorflow/tfjs';
import type { LoadedConfig } from '../config/load.js';
import { classNames, modelInputShape } from '../config/shape.js';
import type { LayerEntry, LayerEntryMap } from '../config/types.js';
import { ConfigError, type Diagnostic, type DiagnosticNote, type SourceSpan } from '../core/diagnostic.js';
import { displayPath, type DocumentPath } from '../core/document-path.js';
import { deriveSeed } from '../core/seed.js';
import { formatShape, type Shape, type Tf } from '../core/tf.js';
import { schemaErrorsToDiagnostics, type Locator } from '../schema/errors.js';
import type { SchemaError } from '../schema/validator.js';
import { layerArgsValidator } from '../schema/index.js';
import { plainSchema } from '../schema/json-schema.js';
import { argumentBehind, movedToArgument, originPath, SIZE_ARGS, writtenAt, type ArgumentOrigin, type ArgumentOrigins } from './arg-origins.js';
import { layerBuildContext } from './build-context.js';
import { diagnosticAt } from './diagnostic-at.js';
import { evaluateDeep, ExpressionError, hasExpression, scopeOf, type Scope, type Value } from './expression.js';
import { didYouMean, listChoices } from '../core/suggest.js';
import { bindTemplateArgs, FAILED, isMap, type TemplateHost } from './templates.js';
import { applyInitAndFreeze, type InitReport } from './transfer.js';

/**
 * The compiler's graph walk: a model's layer list (and the templates it uses, recursively) becomes a
 * tfjs functional graph. Names are scoped by template instance (`conv_stack_1/conv_unit_2/conv2d_1`),
 * every layer remembers the YAML that wrote it, and every problem is a diagnostic at that YAML.
 * Template arguments are bound in templates.ts, layers get their build context from
 * build-context.ts, and transfer.ts loads initial weights and freezes layers.
 */
type SymbolicTensor = tfjs.SymbolicTensor;

/** One layer of a compiled model, for summaries and for tracing a layer back to its YAML. */
export interface LayerRecord {
  name: string;
  /** The registry type (`conv2d`), or `input`. */
  type: string;
  outputShape: Shape;
  params: number;
  trainable: boolean;
  /** Names of the layers feeding this one. */
  inputs: string[];
  /** Where the entry that made it is written. */
  span?: SourceSpan;
  /** Templates it came through, outermost first. */
  via: string[];
}

export interface CompiledModel {
  name: string;
  model: tfjs.LayersModel;
  layers: LayerRecord[];
  inputShape: number[];
  params: number;
  trainableParams: number;
  /** Where the initial weights came from (models.<name>.init), and what was loaded. */
  init?: InitReport;
}

export interface CompileOptions {
  tf: Tf;
  /** Seed for the initial weights (default: derived from the experiment seed and the model name). */
  seed?: number;
  /**
   * false starts every weight at zero instead of drawing it: the graph and parameter counts are
   * identical, and building is faster. For inspection (validate, compile); never for training.
   */
  initialize?: boolean;
}

/** Templates inside templates deeper than this are surely a runaway (cycles are rejected earlier). */
const MAX_TEMPLATE_DEPTH = 32;

interface Frame {
  listPath: DocumentPath;
  prefix: string;
  scope: Scope;
  names: Map<string, SymbolicTensor | undefined>;
  counters: Map<string, number>;
  notes: DiagnosticNote[];
  /** Where the arguments of this template instance are written (empty in a model's own layers). */
  origins: ArgumentOrigins;
  via: string[];
  trainable: boolean;
  depth: number;
}

function describeInputs(tensors: readonly SymbolicTensor[], names: readonly string[]): string {
  const list = tensors.map((t, i) => `\`${names[i]}\` ${formatShape(t.shape)}`).join(', ');
  return `${tensors.length > 1 ? 'inputs' : 'input'} ${list}`;
}

class ModelBuilder {
  readonly diagnostics: Diagnostic[] = [];
  readonly records: LayerRecord[] = [];
  private readonly usedNames = new Set<string>();
  private readonly producers = new Map<SymbolicTensor, string>();
  private readonly globals: Scope;

  constructor(
    private readonly loaded: LoadedConfig,
    private readonly modelName: string,
    private readonly tf: Tf,
    private readonly seed: number,
    private readonly initialize: boolean,
  ) {
    const config = loaded.config;
    this.globals = scopeOf(
      new Map<string, Value>([
        ['classes', classNames(config).length],
        ['input_shape', modelInputShape(config, loaded.registry)],
      ]),
    );
  }

  private get registry() {
    return this.loaded.registry;
  }

  private report(d: Omit<Diagnostic, 'severity' | 'span' | 'path'>, path: DocumentPath, notes: DiagnosticNote[], onKey = false): void {
    this.diagnostics.push(diagnosticAt(this.loaded.locate, d, path, notes, onKey));
  }

  /** A problem with a value written in `frame` at `path`, placed at the argument behind that value when there is one. */
  private reportIn(frame: Frame, scope: Scope, d: Omit<Diagnostic, 'severity' | 'span' | 'path'>, path: DocumentPath): void {
    this.diagnostics.push(this.blame(diagnosticAt(this.loaded.locate, d, path, frame.notes), path, frame, scope));
  }

  /**
   * `d`, about the value written at `path` in a template, moved to the user's argument when that
   * value is an expression over a parameter given as an argument; the template's line becomes a note.
   */
  private blame(d: Diagnostic, path: DocumentPath, frame: Frame, scope: Scope): Diagnostic {
    if (frame.origins.size === 0) return d;
    const { written, below } = writtenAt(this.loaded.config, path);
    const behind = argumentBehind(written, scope, frame.origins);
    if (behind === undefined) return d;
    const usedAt: DiagnosticNote = {
      message: `argument \`${behind.name}\` of template \`${frame.via[frame.via.length - 1]}\` (instance \`${frame.prefix.slice(0, -1)}\`) is used here`,
      span: this.loaded.locate(path.slice(0, path.length - below.length)).span,
    };
    return movedToArgument(this.loaded.locate, d, originPath(written, behind.origin, below), behind.origin, usedAt, frame.notes);
  }

  /** A layer's output would be empty, or tfjs refused its arguments: blamed on the first size argument (kernel, pool, strides...) that came from an argument. */
  private blameSize(d: Diagnostic, argsPath: DocumentPath, written: unknown, frame: Frame, scope: Scope): Diagnostic {
    if (frame.origins.size === 0 || !isMap(written)) return d;
    for (const key of SIZE_ARGS) {
      if (!(key in written)) continue;
      const moved = this.blame(d, [...argsPath, key], frame, scope);
      if (moved !== d) return moved;
    }
    return d;
  }

  /** Schema errors of a value evaluated from what is written at `at`, each blamed on the argument behind it (see blame). */
  private schemaDiagnostics(errors: readonly SchemaError[], at: DocumentPath, frame: Frame, scope: Scope): Diagnostic[] {
    // The diagnostics carry display paths; the document path each was located at is what blame reads.
    const located = new Map<string, DocumentPath>();
    const locate: Locator = (p) => {
      located.set(displayPath(p), p);
      return this.loaded.locate(p);
    };
    return schemaErrorsToDiagnostics(errors, locate, { registry: this.registry, basePath: at, notes: frame.notes }).map((d) => {
      const p = located.get(d.path ?? '');
      return p === undefined ? d : this.blame(d, p, frame, scope);
    });
  }

  /**
   * Where each argument of a template use is written: here, or (when it is an expression over this
   * template's own parameters) where the argument behind that parameter is, with this hand-on as a note.
   */
  private argumentOrigins(frame: Frame, entry: LayerEntryMap, path: DocumentPath, scope: Scope, bound: ReadonlyMap<string, Value>, templateName: string): Map<string, ArgumentOrigin> {
    const origins = new Map<string, ArgumentOrigin>();
    if (!isMap(entry.with)) return origins;
    for (const name of bound.keys()) {
      if (!(name in entry.with)) continue;
      const at: DocumentPath = [...path, 'with', name];
      const written = entry.with[name];
      const behind = argumentBehind(written, scope, frame.origins);
      if (behind === undefined) {
        origins.set(name, { path: at, notes: frame.notes, passedOn: [] });
        continue;
      }
      const handOn: DiagnosticNote = {
        message: `argument \`${behind.name}\` of template \`${frame.via[frame.via.length - 1]}\` is passed on here as \`${name}\` of template \`${templateName}\``,
        span: this.loaded.locate(at).span,
      };
      origins.set(name, { ...behind.origin, path: originPath(written, behind.origin, []), passedOn: [handOn, ...behind.origin.passedOn] });
    }
    return origins;
  }

  /** What template binding needs of the builder: where to report, how to evaluate, the globals. */
  private templateHost(frame: Frame): TemplateHost {
    return {
      registry: this.registry,
      globals: this.globals,
      locate: this.loaded.locate,
      notes: frame.notes,
      diagnostics: this.diagnostics,
      evaluate: (value, scope, path) => this.evaluate(value, scope, path, frame),
      schemaDiagnostics: (errors, at, scope) => this.schemaDiagnostics(errors, at, frame, scope),
    };
  }

  /** Evaluates expressions in `value`; an error becomes a diagnostic at `path`. */
  private evaluate(value: unknown, scope: Scope, path: DocumentPath, frame: Frame): Value | typeof FAILED {
    try {
      return evaluateDeep(value, scope);
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      this.reportIn(frame, scope, { code: 'expression', message: error.message, ...(error.hint ? { hint: error.hint } : {}) }, [...path, ...(error.path ?? [])]);
      return FAILED;
    }
  }

  build(): CompiledModel | undefined {
    const model = this.loaded.config.models[this.modelName]!;
    const shape = model.input ?? modelInputShape(this.loaded.config, this.registry);
    const input = this.tf.input({ shape, name: 'input' });
    this.usedNames.add('input');
    this.producers.set(input, 'input');
    this.records.push({ name: 'input', type: 'input', outputShape: input.shape, params: 0, trainable: false, inputs: [], via: [] });
    const listPath: DocumentPath = ['models', this.modelName, 'layers'];
    const frame: Frame = {
      listPath,
      prefix: '',
      scope: this.globals,
      names: new Map([['input', input]]),
      counters: new Map(),
      notes: [],
      origins: new Map(),
      via: [],
      trainable: true,
      depth: 0,
    };
    const output = this.runList(frame, model.layers, input);
    if (output === undefined || this.diagnostics.length > 0) return undefined;

    const classes = classNames(this.loaded.config).length;
    const lastPath: DocumentPath = [...listPath, model.layers.length - 1];
    if (output.shape.length !== 2 || output.shape[1] !== classes) {
      this.report(
        {
          code: 'shape',
          message:
            output.shape.length !== 2
              ? `model \`${this.modelName}\` must end with one output per class (${classes}), but it ends with ${formatShape(output.shape)}`
              : `model \`${this.modelName}\` ends with ${output.shape[1]} outputs, but the data has ${classes} classes`,
          expected: `an output of shape ${classes} (one probability per class)`,
          found: formatShape(output.shape),
          hint: 'end the layers with `flatten` (or `global_avg_pool2d`) and `dense: {units: $classes, activation: softmax}`',
        },
        lastPath,
        [],
      );
      return undefined;
    }
    let tfModel: tfjs.LayersModel;
    try {
      tfModel = this.tf.model({ inputs: input, outputs: output, name: this.modelName });
    } catch (error) {
      this.report({ code: 'shape', message: `tfjs could not assemble model \`${this.modelName}\`: ${(error as Error).message}` }, listPath, []);
      return undefined;
    }
    const initialized = applyInitAndFreeze(this.tf, tfModel, model, this.modelName, this.loaded.locate, this.records);
    this.diagnostics.push(...initialized.diagnostics);
    const init = initialized.report;
    if (this.diagnostics.length > 0) {
      tfModel.dispose();
      return undefined;
    }
    const trainableParams = tfModel.trainableWeights.reduce((sum, w) => sum + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
    return {
      name: this.modelName,
      model: tfModel,
      layers: this.records,
      inputShape: shape,
      params: tfModel.countParams(),
      trainableParams,
      ...(init ? { init } : {}),
    };
  }

  private runList(frame: Frame, entries: readonly LayerEntry[], input: SymbolicTensor | undefined): SymbolicTensor | undefined {
    let current = input;
    let currentName = 'input';
    entries.forEach((entry, index) => {
      const result = this.runEntry(frame, entry, index, current, currentName);
      current = result.output;
      currentName = result.label;
    });
    return current;
  }

  private shapeScope(parent: Scope, tensor: SymbolicTensor | undefined, extra: [string, Value][] = []): Scope {
    const values = new Map<string, Value>(extra);
    if (tensor !== undefined) {
      const dims = tensor.shape.slice(1) as (number | null)[];
      values.set('in_shape', dims);
      values.set('in_channels', dims[dims.length - 1] ?? null);
    }
    return scopeOf(values, parent);
  }

  private runEntry(
    frame: Frame,
    raw: LayerEntry,
    index: number,
    current: SymbolicTensor | undefined,
    currentName: string,
  ): { output: SymbolicTensor | undefined; label: string } {
    const path: DocumentPath = [...frame.listPath, index];
    const entry: LayerEntryMap = typeof raw === 'string' ? { [raw]: null } : raw;
    const kind = Object.keys(entry).find((k) => k === 'use' || this.registry.layers.has(k))!;
    const label = typeof entry.name === 'string' ? entry.name : kind === 'use' ? String(entry.use) : kind;

    const remember = (output: SymbolicTensor | undefined) => {
      if (typeof entry.name === 'string' && !entry.name.includes('$')) frame.names.set(entry.name, output);
      return { output, label };
    };
    let inputNames: string[];
    if (Array.isArray(entry.inputs)) {
      const names = entry.inputs.map((n, j) => this.inputName(frame, n, [...path, 'inputs', j]));
      if (names.some((n) => n === undefined)) return remember(undefined);
      inputNames = names as string[];
    } else if (typeof entry.input === 'string') {
      const name = this.inputName(frame, entry.input, [...path, 'input']);
      if (name === undefined) return remember(undefined);
      inputNames = [name];
    } else {
      inputNames = [currentName];
    }
    const inputs = Array.isArray(entry.inputs) || typeof entry.input === 'string' ? inputNames.map((n) => frame.names.get(n)) : [current];
    const entryScope = this.shapeScope(frame.scope, inputs[0]);

    if (entry.if !== undefined) {
      const condition = this.evaluate(entry.if, entryScope, [...path, 'if'], frame);
      if (condition === FAILED) return remember(undefined);
      if (typeof condition !== 'boolean') {
        this.reportIn(
          frame,
          entryScope,
          { code: 'expression', message: '`if` must be true or false', found: JSON.stringify(condition), hint: 'compare explicitly, e.g. $(stride != 1)' },
          [...path, 'if'],
        );
        return remember(undefined);
      }
      // A skipped entry passes its input on: its name then stands for that input.
      if (!condition) return remember(inputs[0]);
    }

    let count = 1;
    const repeated = entry.repeat !== undefined;
    if (repeated) {
      const value = this.evaluate(entry.repeat, entryScope, [...path, 'repeat'], frame);
      if (value === FAILED) return remember(undefined);
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        this.reportIn(frame, entryScope, { code: 'expression', message: '`repeat` must be a whole number >= 0', found: JSON.stringify(value) }, [...path, 'repeat']);
        return remember(undefined);
      }
      count = value;
      if (count > 1 && inputs.length > 1) {
        this.report({ code: 'layer-entry', message: 'a merge entry (with `inputs`) cannot repeat' }, [...path, 'repeat'], frame.notes, true);
        return remember(undefined);
      }
    }

    let output = inputs[0];
    for (let r = 0; r < count; r++) {
      const stepInputs = r === 0 ? inputs : [output];
      const stepNames = r === 0 ? inputNames : [label];
      const scope = repeated ? this.shapeScope(frame.scope, stepInputs[0], [['index', r]]) : entryScope;
      const next =
        kind === 'use'
          ? this.expandTemplate(frame, entry, path, scope, stepInputs[0], r, repeated)
          : this.buildLayer(frame, entry, kind, path, scope, stepInputs, stepNames, r, repeated);
      output = next;
      if (next === undefined) break;
    }
    return remember(output);
  }

  /**
   * The entry named by `input`/`inputs`. A plain name was checked when the config was read; one
   * computed by an expression (`input: $from`, a template's argument) is checked here.
   */
  private inputName(frame: Frame, written: string, path: DocumentPath): string | undefined {
    if (!hasExpression(written)) return written;
    const value = this.evaluate(written, frame.scope, path, frame);
    if (value === FAILED) return undefined;
    if (typeof value === 'string' && frame.names.has(value)) return value;
    const candidates = [...frame.names.keys()];
    const hint = typeof value === 'string' ? didYouMean(value, candidates) : undefined;
    this.reportIn(
      frame,
      frame.scope,
      {
        code: 'reference',
        message: typeof value === 'string' ? `no entry above is named \`${value}\`` : 'an input must be the name of an entry above',
        expected: `one of ${listChoices(candidates)}`,
        found: JSON.stringify(value),
        hint: hint ?? (frame.via.length > 0 ? 'a template sees only its own entries and `input` (its input)' : 'give the entry you mean a `name:`'),
      },
      path,
    );
    return undefined;
  }

  private nextName(frame: Frame, entry: LayerEntryMap, base: string, scope: Scope, path: DocumentPath, r: number, repeated: boolean): string | undefined {
    let local: string;
    if (typeof entry.name === 'string') {
      const evaluated = this.evaluate(entry.name, scope, [...path, 'name'], frame);
      if (evaluated === FAILED) return undefined;
      local = String(evaluated);
      if (repeated && !entry.name.includes('$')) local = `${local}_${r + 1}`;
    } else {
      const n = (frame.counters.get(base) ?? 0) + 1;
      frame.counters.set(base, n);
      local = `${base}_${n}`;
    }
    const full = `${frame.prefix}${local}`;
    if (!/^[A-Za-z0-9][-A-Za-z0-9._/]*$/.test(full)) {
      this.reportIn(
        frame,
        scope,
        { code: 'pattern', message: `\`${local}\` cannot name a layer`, expected: 'letters, digits, `_`, `-`, `.`, starting with a letter or digit' },
        [...path, 'name'],
      );
      return undefined;
    }
    if (this.usedNames.has(full)) {
      this.reportIn(
        frame,
        scope,
        { code: 'duplicate-name', message: `two layers would be named \`${full}\``, hint: 'rename one of them (names are unique in a model)' },
        [...path, 'name'],
      );
      return undefined;
    }
    this.usedNames.add(full);
    return full;
  }

  private buildLayer(
    frame: Frame,
    entry: LayerEntryMap,
    kind: string,
    path: DocumentPath,
    scope: Scope,
    inputs: (SymbolicTensor | undefined)[],
    inputNames: string[],
    r: number,
    repeated: boolean,
  ): SymbolicTensor | undefined {
    const definition = this.registry.layers.get(kind)!;
    const argsPath: DocumentPath = [...path, kind];
    const evaluated = this.evaluate(entry[kind] ?? {}, scope, argsPath, frame);
    if (evaluated === FAILED) return undefined;
    const args = evaluated === null ? {} : evaluated;
    if (!isMap(args)) {
      this.reportIn(
        frame,
        scope,
        { code: 'type', message: `the arguments of \`${kind}\` must be a map`, found: JSON.stringify(args), expected: `{${Object.keys(plainSchema(definition.args).properties ?? {}).slice(0, 3).join(': ..., ')}: ...}` },
        argsPath,
      );
      return undefined;
    }
    const validate = layerArgsValidator(this.registry, kind);
    if (!validate(args)) {
      this.diagnostics.push(...this.schemaDiagnostics(validate.errors ?? [], argsPath, frame, scope));
      return undefined;
    }
    // An upstream entry failed: its error is reported; nothing more to learn about shapes here.
    if (inputs.some((t) => t === undefined)) return undefined;
    const tensors = inputs as SymbolicTensor[];
    const shapes = tensors.map((t) => t.shape);
    const problem = definition.checkInput?.(shapes, args as never, inputNames);
    if (problem !== undefined) {
      this.report(
        { code: 'shape', message: problem, found: describeInputs(tensors, inputNames) },
        argsPath,
        frame.notes,
        true,
      );
      return undefined;
    }
    const name = this.nextName(frame, entry, kind, scope, path, r, repeated);
    if (name === undefined) return undefined;
    const trainable = frame.trainable && entry.trainable !== false;
    let output: SymbolicTensor;
    let layer: tfjs.layers.Layer;
    try {
      layer = definition.build(args as never, layerBuildContext({ tf: this.tf, registry: this.registry, seed: this.seed, initialize: this.initialize }, name, shapes, trainable));
      output = layer.apply(tensors.length === 1 ? tensors[0]! : tensors) as SymbolicTensor;
    } catch (error) {
      const d = diagnosticAt(
        this.loaded.locate,
        {
          code: 'shape',
          message: `\`${kind}\` cannot be applied here: ${(error as Error).message.split('\n')[0]}`,
          found: describeInputs(tensors, inputNames),
        },
        argsPath,
        frame.notes,
        true,
      );
      this.diagnostics.push(this.blameSize(d, argsPath, entry[kind], frame, scope));
      return undefined;
    }
    if (output.shape.slice(1).some((d) => d !== null && d <= 0)) {
      const d = diagnosticAt(
        this.loaded.locate,
        {
          code: 'shape',
          message: `\`${kind}\` would produce an empty output (${formatShape(output.shape)}) from its input ${formatShape(shapes[0]!)}`,
          hint: 'the image is too small here: use `padding: same`, a smaller kernel or stride, or fewer poolings before it',
        },
        argsPath,
        frame.notes,
        true,
      );
      this.diagnostics.push(this.blameSize(d, argsPath, entry[kind], frame, scope));
      return undefined;
    }
    if (!trainable) layer.trainable = false;
    this.producers.set(output, name);
    const position = this.loaded.locate(path);
    this.records.push({
      name,
      type: kind,
      outputShape: output.shape,
      params: layer.countParams(),
      trainable,
      inputs: tensors.map((t) => this.producers.get(t) ?? '?'),
      span: position.span,
      via: frame.via,
    });
    return output;
  }

  private expandTemplate(
    frame: Frame,
    entry: LayerEntryMap,
    path: DocumentPath,
    scope: Scope,
    input: SymbolicTensor | undefined,
    r: number,
    repeated: boolean,
  ): SymbolicTensor | undefined {
    const templateName = String(entry.use);
    const template = this.loaded.config.templates[templateName]!;
    if (frame.depth >= MAX_TEMPLATE_DEPTH) {
      this.report({ code: 'template-cycle', message: `templates nest more than ${MAX_TEMPLATE_DEPTH} deep here` }, [...path, 'use'], frame.notes);
      return undefined;
    }
    const bound = bindTemplateArgs(this.templateHost(frame), templateName, template, entry, path, scope);
    if (bound === undefined) return undefined;
    const origins = this.argumentOrigins(frame, entry, path, scope, bound, templateName);

    const instance = this.nextName(frame, entry, templateName, scope, path, r, repeated);
    if (instance === undefined) return undefined;
    const child: Frame = {
      listPath: ['templates', templateName, 'layers'],
      prefix: `${instance}/`,
      // Encapsulation: a template sees its parameters and the globals, not its caller's names.
      scope: scopeOf(bound, this.globals),
      names: new Map([['input', input]]),
      counters: new Map(),
      origins,
      notes: [{ message: `in template \`${templateName}\` (instance \`${instance}\`) used here`, span: this.loaded.locate(path).span }, ...frame.notes],
      via: [...frame.via, templateName],
      trainable: frame.trainable && entry.trainable !== false,
      depth: frame.depth + 1,
    };
    return this.runList(child, template.layers, input);
  }
}

/** The default seed of a model's initial weights: the experiment seed and the model name. */
export function modelSeed(experimentSeed: number, modelName: string): number {
  return deriveSeed(experimentSeed, 'model', modelName);
}

/**
 * Builds the named models as tfjs graphs (functional API). All problems of all models are
 * collected and thrown together as one ConfigError, each at the YAML line that caused it.
 */
export function compileModels(loaded: LoadedConfig, names: readonly string[], options: CompileOptions): CompiledModel[] {
  const compiled: CompiledModel[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const name of names) {
    const builder = new ModelBuilder(loaded, name, options.tf, options.seed ?? modelSeed(loaded.config.seed, name), options.initialize ?? true);
    const model = builder.build();
    diagnostics.push(...builder.diagnostics);
    if (model !== undefined) compiled.push(model);
  }
  if (diagnostics.length > 0) {
    for (const model of compiled) model.model.dispose();
    throw new ConfigError(diagnostics, loaded.sources);
  }
  return compiled;
}

export function compileModel(loaded: LoadedConfig, name: string, options: CompileOptions): CompiledModel {
  return compileModels(loaded, [name], options)[0]!;
}
