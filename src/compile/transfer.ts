import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { matchesAny } from '../core/patterns.js';
import type { Tf } from '../core/tf.js';
import { downloadedModelDir } from '../config/remote-models.js';
import type { InitConfig, ModelConfig } from '../config/types.js';
import type { Diagnostic } from '../core/diagnostic.js';
import { displayPath, type DocumentPath } from '../core/document-path.js';
import type { SourceSpan } from '../core/diagnostic.js';
import type { Locator } from '../schema/errors.js';
import { diagnosticAt } from './diagnostic-at.js';
import { chooseRun, InitSourcePending, memberModelDir } from '../store/member-models.js';
import { FerError } from '../core/errors.js';

/**
 * Transfer learning: a model's starting weights from a member of a finished fer run or from any
 * TensorFlow.js LayersModel on disk (model.json + weight files, e.g. a Keras model converted with
 * tensorflowjs_converter), copied into its layers by name. Read synchronously, so compiling stays a
 * pure function of the config and these files.
 */

export interface SourceWeights {
  /** Readable description: `runs/quick/run-ab12 member vgg-1 (all)` or the model.json path. */
  description: string;
  /** SHA-256 of the weight bytes, to record where a run's initial weights came from. */
  digest: string;
  weights: Map<string, tfjs.Tensor>;
}

const isUrl = (text: string) => /^https?:\/\//.test(text);

/** The model.json an init names, and how to describe it. */
function locateSource(init: InitConfig, baseDir: string): { modelJson: string; description: string } {
  if (init.run) {
    const runDir = chooseRun(path.resolve(baseDir, init.run));
    const found = memberModelDir(runDir, init.member ?? 'best');
    return { modelJson: path.join(found.dir, 'model.json'), description: `${path.relative(process.cwd(), runDir) || runDir} member ${found.member} (${found.task})` };
  }
  if (init.model) {
    if (isUrl(init.model)) {
      const modelJson = path.join(downloadedModelDir(init.model), 'model.json');
      if (!existsSync(modelJson)) throw new Error(`init.model: ${init.model} has not been downloaded (fer run, compile and validate fetch it first)`);
      return { modelJson, description: init.model };
    }
    const modelJson = path.resolve(baseDir, init.model);
    if (!existsSync(modelJson)) throw new Error(`init.model: ${modelJson} not found`);
    return { modelJson, description: path.relative(process.cwd(), modelJson) || modelJson };
  }
  throw new Error('init needs `run` (a fer run folder) or `model` (a tfjs model.json)');
}

function sourceBytes(modelJson: string): { bytes: Buffer; specs: tfjs.io.WeightsManifestEntry[] } {
  const manifest = JSON.parse(readFileSync(modelJson, 'utf8')) as { weightsManifest?: { paths: string[]; weights: tfjs.io.WeightsManifestEntry[] }[] };
  const groups = manifest.weightsManifest ?? [];
  const bytes = Buffer.concat(groups.flatMap((g) => g.paths.map((p) => readFileSync(path.join(path.dirname(modelJson), p)))));
  return { bytes, specs: groups.flatMap((g) => g.weights) };
}

/** Where an init's weights come from and their digest, without tfjs (for what a run records). */
export function describeInitSource(init: InitConfig, baseDir: string): { description: string; digest: string } {
  const { modelJson, description } = locateSource(init, baseDir);
  return { description, digest: createHash('sha256').update(sourceBytes(modelJson).bytes).digest('hex') };
}

export function readSourceWeights(tf: Tf, init: InitConfig, baseDir: string): SourceWeights {
  const { modelJson, description } = locateSource(init, baseDir);
  const { bytes, specs } = sourceBytes(modelJson);
  const decoded = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, specs);
  return { description, digest: createHash('sha256').update(bytes).digest('hex'), weights: new Map(Object.entries(decoded)) };
}

export interface InitReport {
  source: string;
  digest: string;
  loaded: string[];
  initialized: string[];
}

export interface InitProblem {
  layer: string;
  message: string;
  hint?: string;
}

/**
 * Copies source weights into the model's layers by layer name (or `map`); returns what was loaded,
 * what kept its fresh weights, and problems (a shape mismatch, or a missing layer without `partial`).
 */
export function applySourceWeights(model: tfjs.LayersModel, source: SourceWeights, init: InitConfig): { report: InitReport; problems: InitProblem[] } {
  const excluded = (name: string) => matchesAny(init.exclude ?? [], name);
  const report: InitReport = { source: source.description, digest: source.digest, loaded: [], initialized: [] };
  const problems: InitProblem[] = [];
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    if (excluded(layer.name)) {
      report.initialized.push(layer.name);
      continue;
    }
    const from = init.map?.[layer.name] ?? layer.name;
    const names = layer.weights.map((w) => `${from}${w.originalName.slice(layer.name.length)}`);
    const found = names.map((n) => source.weights.get(n));
    if (found.every((t) => t === undefined)) {
      report.initialized.push(layer.name);
      if (!init.partial) problems.push({ layer: layer.name, message: `layer \`${layer.name}\` has no counterpart${from !== layer.name ? ` \`${from}\`` : ''} in ${source.description}`, hint: 'set init.partial: true to start it fresh, or map it to a source layer with init.map' });
      continue;
    }
    const mismatch = layer.weights.findIndex((w, i) => !found[i] || found[i]!.shape.join('x') !== w.shape.join('x'));
    if (mismatch >= 0) {
      const w = layer.weights[mismatch]!;
      const t = found[mismatch];
      problems.push({
        layer: layer.name,
        message: t
          ? `layer \`${layer.name}\`: its ${w.originalName.slice(layer.name.length + 1)} is ${w.shape.join('x')} here but ${t.shape.join('x')} in ${source.description}`
          : `layer \`${layer.name}\`: the source has no ${names[mismatch]}`,
        hint: 'a layer that changed (a new head, more filters) cannot take the old weights: list it in init.exclude, or give it a new `name:`',
      });
      continue;
    }
    layer.setWeights(found as tfjs.Tensor[]);
    report.loaded.push(layer.name);
  }
  return { report, problems };
}

/**
 * Loads `models.<name>.init` weights into a built model and freezes its `frozen` layers; problems
 * are placed at their YAML lines (a layer's problem at the line that wrote the layer). `layers`
 * gives where each layer was written, and learns which became untrainable.
 */
export function applyInitAndFreeze(
  tf: Tf,
  tfModel: tfjs.LayersModel,
  model: ModelConfig,
  modelName: string,
  locate: Locator,
  layers: { name: string; span?: SourceSpan; trainable: boolean }[],
): { report?: InitReport; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const modelPath: DocumentPath = ['models', modelName];
  const spanOf = (layer: string) => layers.find((r) => r.name === layer)?.span;
  let report: InitReport | undefined;
  if (model.init) {
    const where = locate([...modelPath, 'init']).span.file;
    const baseDir = path.isAbsolute(where) ? path.dirname(where) : process.cwd();
    let source: SourceWeights | undefined;
    try {
      source = readSourceWeights(tf, model.init, baseDir);
    } catch (error) {
      diagnostics.push(diagnosticAt(locate, { code: error instanceof InitSourcePending ? 'init-source-pending' : 'reference', message: (error as Error).message, ...(error instanceof FerError && error.hint ? { hint: error.hint } : {}) }, [...modelPath, 'init'], [], true));
    }
    if (source) {
      const { report: applied, problems } = applySourceWeights(tfModel, source, model.init);
      tf.dispose([...source.weights.values()]);
      for (const problem of problems) {
        const span = spanOf(problem.layer);
        diagnostics.push({ severity: 'error', code: 'shape', message: problem.message, ...(span ? { span } : {}), path: displayPath([...modelPath, 'init']), ...(problem.hint ? { hint: problem.hint } : {}) });
      }
      report = applied;
    }
  }
  if (model.frozen && model.frozen.length > 0) {
    const frozen = tfModel.layers.filter((l) => matchesAny(model.frozen!, l.name));
    if (frozen.length === 0) {
      diagnostics.push(
        diagnosticAt(locate, { code: 'reference', message: `frozen: no layer of \`${modelName}\` matches ${model.frozen.map((p) => `\`${p}\``).join(', ')}`, hint: 'fer compile --summary lists the layer names' }, [...modelPath, 'frozen'], [], true),
      );
    }
    for (const layer of frozen) {
      layer.trainable = false;
      const record = layers.find((r) => r.name === layer.name);
      if (record) record.trainable = false;
    }
  }
  return { ...(report ? { report } : {}), diagnostics };
}
