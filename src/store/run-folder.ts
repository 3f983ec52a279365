import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { FerConfig } from '../config/types.js';
import type { ImageShape } from '../core/image.js';
import type { FittedStep } from '../data/preprocess.js';
import type { EnsembleSummary } from '../ensemble/summary.js';
import { readJson } from '../core/json.js';
import { checkFile, DamagedFileError, readVerified, readVerifiedJson, writeDurable, writeStateDurable } from '../core/durable-file.js';

/**
 * The run folder, runs/<experiment>/run-<digest>/. Its name is a digest of the resolved config
 * and the data, so running the same command again finds the same folder: that is how a rerun
 * after a crash (or Ctrl-C) continues instead of starting over, and how shards on several machines
 * sharing one runs folder meet. `--new` adds a suffix for a fresh run of the same config.
 *   run.json               what was run, when, on what, and its state
 *   config.resolved.yaml   the config after extends, templates' source, overrides and defaults
 *   sources/               copies of every config file read
 *   tasks/<member>/<fold>/ status.json, metrics.csv/json, checkpoint/, model/, preprocess.json,
 *                          predictions.validation.csv, predictions.test.csv
 *   ensemble/              summary.json, report.txt, confusion-matrix.png/json, predictions.test.csv
 */
export type RunState = 'running' | 'finished' | 'failed' | 'killed';
export type TaskState = 'running' | 'finished' | 'failed' | 'killed';

export interface RunManifest {
  runId: string;
  /** A random id given at the folder's first run: names the run in MLflow (tag fer.run_uid). */
  uid?: string;
  experiment: string;
  configFile: string;
  configDigest: string;
  dataDigest: string;
  created: string;
  updated: string;
  state: RunState;
  ferVersion: string;
  backend?: string;
  /**
   * On the native backend: the kernels chosen where TensorFlow has two for one job (FER_KERNELS, else
   * the CPU's flags) and the CPU, so that numbers from two machines can be told apart. The latest
   * invocation's (backend/kernel-choice.ts KernelRecord).
   */
  kernels?: { setting: string; fusedConvolution: string; largeFilterGradients: string; reason: string; cpu: string };
  tasks: number;
  /** The plugins loaded, where from, and the SHA-256 of each file (part of configDigest). */
  plugins?: { name: string; version: string; spec: string; source: string; digest?: string }[];
}

/** One epoch of a task, as metrics.json and metrics.csv keep it (the trainer reports these). */
export interface EpochMetrics {
  /** From 1, as logs and MLflow steps show it. */
  epoch: number;
  loss: number;
  accuracy: number;
  val_loss?: number;
  val_accuracy?: number;
  /** Reported for tasks without a validation fold (final fits); nothing is decided on them. */
  test_loss?: number;
  test_accuracy?: number;
  learning_rate: number;
  seconds: number;
  images_per_second: number;
  /** The training stage (from 1) when training.stages is set. */
  stage?: number;
}

export interface TaskStatus {
  key: string;
  state: TaskState;
  fingerprint: string;
  started: string;
  updated: string;
  epochs: number;
  bestEpoch?: number;
  /** Why the saved weights are those of bestEpoch (the kept epoch, its metric, the average of weights). */
  kept?: string;
  error?: string;
  /** With test-time views, `*_plain` are the same predictions from the images alone. */
  summary?: { val_accuracy?: number; test_accuracy?: number; val_accuracy_plain?: number; test_accuracy_plain?: number; seconds: number };
}

/**
 * What identifies the results of a config, the same in any checkout and on every machine sharing a
 * runs folder (which is how shards meet): everything but the notes, where they are reported and
 * where its files sit. The data source is identified by the data's content digest (the other half
 * of runDigest), the cache is where parsed data is kept (not what the run is), and initial weights
 * by the digest of their bytes (`initWeights`, per model; a source not readable counts by its path).
 */
export function configIdentity(config: FerConfig, initWeights: Readonly<Record<string, string>> = {}): Record<string, unknown> {
  const { tracking: _tracking, description: _description, ...rest } = config;
  const identity: Record<string, unknown> = { ...rest };
  if (rest.data) {
    const { source: _source, cache: _cache, ...data } = rest.data;
    identity.data = data;
  }
  identity.models = Object.fromEntries(
    Object.entries(rest.models ?? {}).map(([name, model]) => {
      const weights = initWeights[name];
      if (!model?.init || weights === undefined) return [name, model];
      const { run: _run, model: _model, ...init } = model.init;
      return [name, { ...model, init: { ...init, weights: `sha256:${weights}` } }];
    }),
  );
  return identity;
}

/**
 * The digest of configIdentity, with the code of the config's plugins (the SHA-256 of each plugin's
 * file, in the order loaded), which shapes the model as much as the config does. It is a digest of
 * the config as JSON, so a copy sent to another process has the same digest.
 */
export function configDigest(config: FerConfig, pluginDigests: readonly string[] = [], initWeights: Readonly<Record<string, string>> = {}): string {
  const rest = configIdentity(config, initWeights);
  const identity = pluginDigests.length === 0 ? rest : { config: rest, plugins: pluginDigests };
  return createHash('sha256').update(canonicalJson(identity)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    // As in JSON, a key whose value is undefined is no key at all.
    return `{${Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function runDigest(configDigest: string, dataDigest: string): string {
  return createHash('sha256').update(`${configDigest}/${dataDigest}`).digest('hex').slice(0, 12);
}

/** The run folder for these digests: the existing one, or (with `fresh`) the next unused name. */
export function runFolder(runsDir: string, experiment: string, digest: string, fresh: boolean): string {
  const base = path.join(runsDir, experiment, `run-${digest}`);
  if (!fresh) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}-${n}`;
    if (!existsSync(candidate)) return candidate;
  }
}

/**
 * Writes a run folder's file atomically with its SHA-256 beside it (core/durable-file.ts): readers
 * never see half a file, and a file damaged later is named when read.
 */
export function writeAtomic(file: string, content: string | Uint8Array): void {
  writeDurable(file, content);
}

export { readJson };

/** run.json; undefined when there is none; throws DamagedFileError when its checksum disagrees. */
export function readRunManifest(runDir: string): RunManifest | undefined {
  return readVerifiedJson<RunManifest>(path.join(runDir, 'run.json'));
}

/** Writes run.json; its last state is written even on a full disk (in place, when no copy fits). */
export function writeRunManifest(runDir: string, manifest: RunManifest): void {
  writeStateDurable(path.join(runDir, 'run.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

export function taskDir(runDir: string, key: string): string {
  return path.join(runDir, 'tasks', ...key.split('/'));
}

export function taskFingerprint(key: string, configDigest: string, dataDigest: string): string {
  return createHash('sha256').update(`${key}/${configDigest}/${dataDigest}`).digest('hex').slice(0, 16);
}

/** A task's status.json; undefined when there is none; throws DamagedFileError when its checksum disagrees. */
export function readTaskStatus(runDir: string, key: string): TaskStatus | undefined {
  return readVerifiedJson<TaskStatus>(path.join(taskDir(runDir, key), 'status.json'));
}

/** Writes a task's status.json; its last state is written even on a full disk (in place, when no copy fits). */
export function writeTaskStatus(runDir: string, status: TaskStatus): void {
  writeStateDurable(path.join(taskDir(runDir, status.key), 'status.json'), `${JSON.stringify(status, null, 2)}\n`);
}

/** The files of a finished task that later steps trust (the ensemble, evaluate, predict). */
const FINISHED_TASK_FILES = ['status.json', 'preprocess.json', 'predictions.validation.csv', 'predictions.test.csv', 'model/model.json', 'model/weights.bin'];

/**
 * The first of a finished task's files whose checksum disagrees, as `<file> is damaged: <why>`; undefined when all
 * are intact (or, written before fer kept checksums, unchecked). Reads each file whole (a ResNet-18's weights: 45 MB).
 */
export function damagedTaskFile(runDir: string, key: string): string | undefined {
  for (const name of FINISHED_TASK_FILES) {
    const file = path.join(taskDir(runDir, key), name);
    const check = checkFile(file);
    if (check.state === 'damaged') return `${file} is damaged: ${check.reason}`;
  }
  return undefined;
}

/** Where a task's trained model is saved (model.json and its weights), once the task has finished. */
export function taskModelDir(runDir: string, key: string): string {
  return path.join(taskDir(runDir, key), 'model');
}

export function hasSavedModel(runDir: string, key: string): boolean {
  return existsSync(path.join(taskModelDir(runDir, key), 'model.json'));
}

/** The preprocessing a task fitted on its training rows (preprocess.json), to apply it again to new images. */
export function readTaskPreprocessing(runDir: string, key: string): { inputShape: ImageShape; steps: FittedStep[] } | undefined {
  return readVerifiedJson(path.join(taskDir(runDir, key), 'preprocess.json'), RETRAIN_HINT);
}

/** What to do about a task's damaged file: its task is trained again by the run's command. */
export const RETRAIN_HINT = 'run the experiment again (fer run <config>): it trains again every task whose files are damaged';

/** ensemble/summary.json: how the members were combined (method, weights) and what they scored. */
export function readEnsembleSummary(runDir: string): EnsembleSummary | undefined {
  return readVerifiedJson<EnsembleSummary>(path.join(runDir, 'ensemble', 'summary.json'), 'run the experiment again (fer run <config>): it rebuilds the ensemble from the tasks\' predictions');
}

const METRIC_COLUMNS: (keyof EpochMetrics)[] = ['epoch', 'loss', 'accuracy', 'val_loss', 'val_accuracy', 'test_loss', 'test_accuracy', 'learning_rate', 'seconds', 'images_per_second', 'stage'];

/** metrics.json and metrics.csv of a task, rewritten after every epoch (so a crash keeps the epochs done). */
export function writeTaskMetrics(dir: string, history: readonly EpochMetrics[]): void {
  writeAtomic(path.join(dir, 'metrics.json'), `${JSON.stringify(history, null, 2)}\n`);
  const lines = [METRIC_COLUMNS.join(','), ...history.map((m) => METRIC_COLUMNS.map((c) => (m[c] === undefined ? '' : String(m[c]))).join(','))];
  writeAtomic(path.join(dir, 'metrics.csv'), `${lines.join('\n')}\n`);
}

/** Probabilities as CSV: dataset row (file order), true label, then one column per class. */
export function writePredictions(file: string, rows: ArrayLike<number>, labels: ArrayLike<number>, probabilities: Float32Array, classes: readonly string[]): void {
  const lines = [['row', 'label', ...classes].join(',')];
  for (let i = 0; i < rows.length; i++) {
    const p = Array.from(probabilities.subarray(i * classes.length, (i + 1) * classes.length), (v) => v.toPrecision(6));
    lines.push([rows[i], labels[i], ...p].join(','));
  }
  writeAtomic(file, `${lines.join('\n')}\n`);
}

/** A predictions CSV; undefined when there is none; throws DamagedFileError when its checksum disagrees or a line is not whole. */
export function readPredictions(file: string, classes: number): { rows: Int32Array; labels: Uint8Array; probabilities: Float32Array } | undefined {
  const content = readVerified(file, RETRAIN_HINT);
  if (content === undefined) return undefined;
  const lines = content.toString('utf8').trim().split('\n').slice(1);
  // Files from before checksums: a cut line is still caught.
  const cut = lines.findIndex((line) => line.split(',').length !== classes + 2);
  if (cut >= 0) throw new DamagedFileError(file, `line ${cut + 2} has ${lines[cut]!.split(',').length} fields, not ${classes + 2}`, RETRAIN_HINT);
  const rows = new Int32Array(lines.length);
  const labels = new Uint8Array(lines.length);
  const probabilities = new Float32Array(lines.length * classes);
  lines.forEach((line, i) => {
    const fields = line.split(',');
    rows[i] = Number(fields[0]);
    labels[i] = Number(fields[1]);
    for (let c = 0; c < classes; c++) probabilities[i * classes + c] = Number(fields[2 + c]);
  });
  return { rows, labels, probabilities };
}

export function writeResolvedConfig(runDir: string, config: FerConfig, files: readonly string[], sources: ReadonlyMap<string, string>): void {
  writeAtomic(path.join(runDir, 'config.resolved.yaml'), `# The configuration this run used: after extends, overrides and defaults.\n${stringify(config)}`);
  files.forEach((file, i) => {
    const text = sources.get(file);
    if (text !== undefined) writeAtomic(path.join(runDir, 'sources', `${String(i).padStart(2, '0')}-${path.basename(file)}`), text);
  });
  const commandLine = sources.get('<command line>');
  if (commandLine !== undefined) writeAtomic(path.join(runDir, 'sources', 'overrides.txt'), `${commandLine}\n`);
}

export function listRuns(runsDir: string): { dir: string; manifest: RunManifest }[] {
  const out: { dir: string; manifest: RunManifest }[] = [];
  if (!existsSync(runsDir)) return out;
  for (const experiment of readdirSync(runsDir)) {
    if (experiment.startsWith('.')) continue;
    const folder = path.join(runsDir, experiment);
    let entries: string[] = [];
    try {
      entries = readdirSync(folder);
    } catch {
      continue;
    }
    for (const run of entries) {
      let manifest: RunManifest | undefined;
      try {
        manifest = readRunManifest(path.join(folder, run));
      } catch (error) {
        // A listing shows the runs it can read; opening the damaged one names it.
        if (!(error instanceof DamagedFileError)) throw error;
      }
      if (manifest) out.push({ dir: path.join(folder, run), manifest });
    }
  }
  return out.sort((a, b) => (a.manifest.created < b.manifest.created ? 1 : -1));
}

/** A task's per-epoch metrics as written so far, or undefined when it has none. */
export function readTaskMetrics(runDir: string, key: string): EpochMetrics[] | undefined {
  const file = path.join(taskDir(runDir, key), 'metrics.json');
  try {
    return readVerifiedJson<EpochMetrics[]>(file);
  } catch {
    // Damaged: the sweep's pruning reads it as not there yet (the task is trained again when it is).
    return undefined;
  }
}
