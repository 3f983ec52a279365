import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../registry/layer-definition.js';
import { readJson } from '../util/json.js';

/**
 * Where a model's starting weights come from (`models.<name>.init`): a member of a finished fer
 * run, or any TensorFlow.js LayersModel on disk (model.json + weight files, e.g. a Keras model
 * converted with tensorflowjs_converter). Read synchronously, so compiling stays a pure function
 * of the config and these files.
 */
export interface InitConfig {
  /** A fer run folder, or an experiment's folder of runs (its best finished run). */
  run?: string;
  /** With `run`: a member name (`cnn-3`), or `best` (highest out-of-fold accuracy). */
  member?: string;
  /** A tfjs model.json on disk, or at an http(s) URL (downloaded once into fer's cache). */
  model?: string;
  /** New layer name -> layer name in the source, where they differ. */
  map?: Record<string, string>;
  /** Layers not to load (names, `*` matches within a name). */
  exclude?: string[];
  /** Allow layers with no counterpart in the source (they keep their fresh initial weights). */
  partial?: boolean;
}

export interface SourceWeights {
  /** Readable description: `runs/quick/run-ab12 member vgg-1 (all)` or the model.json path. */
  description: string;
  /** SHA-256 of the weight bytes, to record where a run's initial weights came from. */
  digest: string;
  weights: Map<string, tfjs.Tensor>;
}

/** The model folder of a run's member: its final fit, else its fold with the best validation accuracy. */
export function memberModelDir(runDir: string, member: string): { dir: string; member: string; task: string } {
  const summary = readJson<{ members?: { name: string; oof?: { accuracy: number }; test?: { accuracy: number } }[] }>(path.join(runDir, 'ensemble', 'summary.json'));
  let chosen = member;
  if (member === 'best') {
    const ranked = [...(summary?.members ?? [])].sort((a, b) => (b.oof?.accuracy ?? b.test?.accuracy ?? 0) - (a.oof?.accuracy ?? a.test?.accuracy ?? 0));
    if (ranked.length === 0) throw new Error(`${runDir} has no ensemble summary to pick the best member from; name a member (init.member)`);
    chosen = ranked[0]!.name;
  }
  const memberDir = path.join(runDir, 'tasks', chosen);
  if (!existsSync(memberDir)) {
    const members = summary?.members?.map((m) => m.name) ?? [];
    throw new Error(`${runDir} has no member \`${chosen}\`${members.length > 0 ? ` (it has ${members.join(', ')})` : ''}`);
  }
  if (existsSync(path.join(memberDir, 'all', 'model', 'model.json'))) return { dir: path.join(memberDir, 'all', 'model'), member: chosen, task: 'all' };
  const folds = readdirSafe(memberDir).filter((f) => existsSync(path.join(memberDir, f, 'model', 'model.json')));
  if (folds.length === 0) throw new Error(`member \`${chosen}\` of ${runDir} has no saved model yet (has the run finished?)`);
  const accuracy = (f: string) => readJson<{ summary?: { val_accuracy?: number } }>(path.join(memberDir, f, 'status.json'))?.summary?.val_accuracy ?? 0;
  const best = [...folds].sort((a, b) => accuracy(b) - accuracy(a))[0]!;
  return { dir: path.join(memberDir, best, 'model'), member: chosen, task: best };
}

/**
 * A run folder, or an experiment's folder (runs/<experiment>) meaning its finished run with the
 * best ensemble accuracy: a config can then name "my best quick run" without its digest.
 */
function chooseRun(folder: string): string {
  if (existsSync(path.join(folder, 'run.json'))) return folder;
  const candidates = readdirSafe(folder)
    .map((name) => path.join(folder, name))
    .filter((dir) => readJson<{ state?: string }>(path.join(dir, 'run.json'))?.state === 'finished')
    .map((dir) => {
      const summary = readJson<{ ensemble?: { test?: { accuracy: number }; oof?: { accuracy: number } } }>(path.join(dir, 'ensemble', 'summary.json'));
      return { dir, accuracy: summary?.ensemble?.oof?.accuracy ?? summary?.ensemble?.test?.accuracy ?? 0 };
    })
    .sort((a, b) => b.accuracy - a.accuracy || a.dir.localeCompare(b.dir));
  if (candidates.length === 0) throw new Error(`init.run: ${folder} is neither a fer run folder (no run.json) nor a folder of finished runs`);
  return candidates[0]!.dir;
}

const isUrl = (text: string) => /^https?:\/\//.test(text);

/** Where a model at a URL is kept once downloaded: a folder per URL in fer's cache. */
export function downloadedModelDir(url: string): string {
  const cache = process.env.FER_CACHE ?? path.join(os.homedir(), '.cache', 'fer');
  return path.join(cache, 'models', createHash('sha256').update(url).digest('hex').slice(0, 16));
}

/**
 * Downloads a tfjs model (model.json and the weight files its manifest lists) from a URL into the
 * cache, once: later compiles read it from disk, synchronously, like any other source.
 */
export async function downloadModel(url: string): Promise<string> {
  const dir = downloadedModelDir(url);
  if (existsSync(path.join(dir, 'model.json'))) return dir;
  const get = async (target: string): Promise<Buffer> => {
    const response = await fetch(target);
    if (!response.ok) throw new Error(`init.model: ${target} answered HTTP ${response.status}`);
    return Buffer.from(await response.arrayBuffer());
  };
  const manifestBytes = await get(url);
  let manifest: { weightsManifest?: { paths: string[] }[] };
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8')) as typeof manifest;
  } catch {
    throw new Error(`init.model: ${url} is not a tfjs model.json`);
  }
  const staging = `${dir}.partial-${process.pid}`;
  mkdirSync(staging, { recursive: true });
  for (const file of (manifest.weightsManifest ?? []).flatMap((g) => g.paths)) {
    if (file.includes('..') || path.isAbsolute(file)) throw new Error(`init.model: ${url} lists a weight file outside its folder: ${file}`);
    writeFileSync(path.join(staging, file), await get(new URL(file, url).href));
  }
  writeFileSync(path.join(staging, 'model.json'), manifestBytes);
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  return dir;
}

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

/** Whether a layer name matches one of the patterns, where `*` matches any run of characters. */
export function matchesAny(patterns: readonly string[], name: string): boolean {
  return patterns.some((pattern) => new RegExp(`^${pattern.split('*').map(escapeRegExp).join('[^]*')}$`).test(name));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\/]/g, '\\$&');
}


function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}
