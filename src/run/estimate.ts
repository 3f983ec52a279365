import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import { cpuModel } from '../backend/cpu-features.js';
import { ferCacheDir } from '../core/cache-dir.js';
import { ferVersion } from '../core/package.js';
import type { Dataset } from '../data/dataset.js';
import { assignFolds, foldRows } from '../data/folds.js';
import { selectSplits, validationHoldOut } from '../data/splits.js';
import { readTaskMetrics, writeAtomic } from '../store/run-folder.js';
import type { Task } from '../store/tasks.js';
import { formatDuration } from './display.js';
import { spawnWorker } from './pool.js';
import type { ModelRate } from './probe.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';

/** Rows one task trains on each epoch, and evaluates each epoch and once at its end. */
export interface TaskWork {
  key: string;
  model: string;
  trainRows: number;
  /** Validation rows (or, for a final fit, test rows recorded every epoch). */
  epochEvalRows: number;
  /** Validation and test rows predicted once the task has trained. */
  finalEvalRows: number;
}

export interface RateSource extends ModelRate {
  /** measured: timed now; cached: timed before on this machine and backend; recorded: this run's own epochs. */
  source: 'measured' | 'cached' | 'recorded';
  /** From `recorded`: the mean seconds of an epoch, which replaces the rate arithmetic. */
  epochSeconds?: number;
}

export interface RunEstimate {
  tasks: number;
  epochs: number;
  /** Training rows per task (the mean over the tasks, folds differ by a row or two). */
  rows: number;
  /** Training images over all tasks and epochs. */
  images: number;
  workers: number;
  threads: number;
  backend: string;
  /** Estimated wall time from the start of training to the ensemble, in seconds. */
  seconds: number;
  /** Each task's estimated seconds, in task order (the runner refines its remaining time with them). */
  taskSeconds: Record<string, number>;
  models: Record<string, RateSource>;
}

/** Above this, fer says what would shorten the run and asks before starting it on a terminal. */
export const LONG_RUN_SECONDS = 3600;

/** The rows each task works on: its fold's train and validation rows, the test rows of the config. */
export function taskWork(loaded: LoadedConfig, dataset: Dataset, tasks: readonly Task[]): TaskWork[] {
  const config = loaded.config;
  const splits = selectSplits(dataset, config.data!.split, config.seed);
  const folds = config.folds ? assignFolds(splits.train.map((r) => dataset.labels[r]!), dataset.classes.length, config.folds.k, config.folds.strategy, config.seed) : undefined;
  const test = splits.test?.length ?? 0;
  // Held-out validation rows are validated on, not trained on: the run's own hold-out.
  const whole = validationHoldOut(dataset, splits.train, config.data!.split, config.seed, folds !== undefined) ?? { train: splits.train, validation: new Int32Array(0) };
  return tasks.map((task) => {
    const rows = task.fold === null || !folds ? whole : foldRows(splits.train, folds, task.fold);
    const validation = rows.validation.length;
    return { key: task.key, model: task.model, trainRows: rows.train.length, epochEvalRows: validation > 0 ? validation : test, finalEvalRows: validation + test };
  });
}

/** What a model's speed depends on, as a cache key: its graph, the training step, the data shape, the backend and machine. */
export function rateKey(loaded: LoadedConfig, dataset: Dataset, model: string, where: { backend: string; threads: number; workers: number }): string {
  const config = loaded.config;
  const t = config.training;
  const identity = {
    fer: ferVersion(),
    probe: 2,
    model: config.models[model],
    templates: config.templates,
    training: { batch_size: t.batch_size, optimizer: t.optimizer, loss: t.loss, clip: t.clip },
    data: { preprocess: config.data?.preprocess, augment: config.data?.augment, class_weight: config.data?.class_weight, image: dataset.image, classes: dataset.classes.length },
    engine: { graph_steps: config.engine.graph_steps, deterministic: config.engine.deterministic },
    ...where,
    cpu: cpuModel(),
  };
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 32);
}

interface CachedRates {
  /** `from`: how the training rate was last set (a probe's few steps, or a finished run's epochs). */
  rates: Record<string, ModelRate & { workerStartSeconds: number; measured: string; from?: 'probe' | 'epochs' }>;
}

const cacheFile = () => path.join(ferCacheDir(), 'estimates.json');

function readCache(): CachedRates {
  try {
    const parsed = JSON.parse(readFileSync(cacheFile(), 'utf8')) as CachedRates;
    return parsed && typeof parsed.rates === 'object' ? parsed : { rates: {} };
  } catch {
    return { rates: {} };
  }
}

function writeCache(update: CachedRates['rates']): void {
  try {
    // Read again just before writing: another fer may have added its models meanwhile.
    const cache = readCache();
    writeAtomic(cacheFile(), `${JSON.stringify({ rates: { ...cache.rates, ...update } }, null, 1)}\n`);
  } catch {
    // An unwritable cache costs a new measurement next time, nothing else.
  }
}

export interface EstimateInputs {
  loaded: LoadedConfig;
  dataset: Dataset;
  /** The tasks still to train. */
  tasks: readonly Task[];
  runDir: string;
  backend: string;
  workers: number;
  threads: number;
  /** How to start workers like the run's, when a model has no cached or recorded rate. */
  probe: { init: WorkerInit; cwd: string; env: (worker: number) => Record<string, string> };
  signal?: AbortSignal;
  /** Told before models are timed (it takes a few seconds each). */
  onMeasure?: (models: string[]) => void;
}

/**
 * The work of a run and its wall time on this machine. Each model's speed comes from, in order:
 * this run's recorded epochs (a resumed run), the cache of earlier measurements (per model, backend,
 * threads, workers and CPU), or a few steps timed now in worker processes started as the run's are
 * (all of them at once, so they share the cores as training will). Tasks are then laid out on the
 * workers as the pool hands them out. Early stopping can only make a run shorter.
 */
export async function estimateRun(inputs: EstimateInputs): Promise<RunEstimate> {
  const { loaded, dataset, tasks, backend, workers, threads } = inputs;
  const config = loaded.config;
  const work = taskWork(loaded, dataset, tasks);
  const models = [...new Set(tasks.map((t) => t.model))];
  const where = { backend, threads, workers };
  const rates: Record<string, RateSource> = {};
  const cache = readCache();
  let workerStartSeconds = 0;
  const missing: string[] = [];
  for (const model of models) {
    const recorded = recordedEpochSeconds(inputs.runDir, tasks.filter((t) => t.model === model));
    const cached = cache.rates[rateKey(loaded, dataset, model, where)];
    if (cached) workerStartSeconds = Math.max(workerStartSeconds, cached.workerStartSeconds);
    if (recorded !== undefined && cached) rates[model] = { ...cached, source: 'recorded', epochSeconds: recorded };
    else if (cached) rates[model] = { trainImagesPerSecond: cached.trainImagesPerSecond, evalImagesPerSecond: cached.evalImagesPerSecond, setupSeconds: cached.setupSeconds, epochOverheadSeconds: cached.epochOverheadSeconds, source: 'cached' };
    else missing.push(model);
  }
  if (missing.length > 0) {
    inputs.onMeasure?.(missing);
    const measured = await measureRates(inputs, missing);
    workerStartSeconds = Math.max(workerStartSeconds, measured.workerStartSeconds);
    const update: CachedRates['rates'] = {};
    for (const model of missing) {
      const rate = measured.rates[model]!;
      rates[model] = { ...rate, source: 'measured' };
      update[rateKey(loaded, dataset, model, where)] = { ...rate, workerStartSeconds: measured.workerStartSeconds, measured: new Date().toISOString(), from: 'probe' };
    }
    writeCache(update);
  }
  const epochs = config.training.epochs;
  const taskSeconds: Record<string, number> = {};
  for (const w of work) taskSeconds[w.key] = secondsOfTask(w, rates[w.model]!, epochs);
  // The pool gives each free worker the next task in order.
  const free = new Array<number>(Math.max(1, workers)).fill(workerStartSeconds);
  for (const w of work) {
    const i = free.indexOf(Math.min(...free));
    free[i]! += taskSeconds[w.key]!;
  }
  const trainRows = work.reduce((s, w) => s + w.trainRows, 0);
  return {
    tasks: tasks.length,
    epochs,
    rows: work.length > 0 ? Math.round(trainRows / work.length) : 0,
    images: trainRows * epochs,
    workers,
    threads,
    backend,
    seconds: work.length > 0 ? Math.max(...free) : 0,
    taskSeconds,
    models: rates,
  };
}

function secondsOfTask(w: TaskWork, rate: RateSource, epochs: number): number {
  const evalTime = (rows: number) => rows / Math.max(1e-6, rate.evalImagesPerSecond);
  const epoch = rate.epochSeconds ?? w.trainRows / Math.max(1e-6, rate.trainImagesPerSecond) + evalTime(w.epochEvalRows) + (rate.epochOverheadSeconds ?? 0);
  return rate.setupSeconds + epochs * epoch + evalTime(w.finalEvalRows);
}

/** The mean seconds of an epoch in this run's tasks of one model, when any has trained one. */
function recordedEpochSeconds(runDir: string, tasks: readonly Task[]): number | undefined {
  const seconds: number[] = [];
  for (const t of tasks) for (const m of readTaskMetrics(runDir, t.key) ?? []) if (m.seconds > 0) seconds.push(m.seconds);
  return seconds.length > 0 ? seconds.reduce((a, b) => a + b, 0) / seconds.length : undefined;
}

/**
 * After training, each model's cached training rate becomes the median images/s of the epochs its
 * tasks trained in this run. A probe times a few steps, and if the machine was busy just then its
 * rate would stay wrong in the cache for every later estimate; whole epochs are the better witness.
 */
export function learnRates(loaded: LoadedConfig, dataset: Dataset, runDir: string, tasks: readonly Task[], estimate: RunEstimate): void {
  // The same key, in the same field order, as estimateRun's.
  const where = { backend: estimate.backend, threads: estimate.threads, workers: estimate.workers };
  const cache = readCache();
  const update: CachedRates['rates'] = {};
  for (const [model, known] of Object.entries(estimate.models)) {
    const rates: number[] = [];
    for (const task of tasks) {
      if (task.model !== model) continue;
      let metrics;
      try {
        metrics = readTaskMetrics(runDir, task.key) ?? [];
      } catch {
        continue; // a damaged metrics file teaches nothing; the run reports it elsewhere
      }
      for (const m of metrics) if (m.images_per_second > 0 && Number.isFinite(m.images_per_second)) rates.push(m.images_per_second);
    }
    if (rates.length === 0) continue;
    rates.sort((a, b) => a - b);
    const median = rates.length % 2 === 1 ? rates[(rates.length - 1) / 2]! : (rates[rates.length / 2 - 1]! + rates[rates.length / 2]!) / 2;
    const key = rateKey(loaded, dataset, model, where);
    const base = cache.rates[key] ?? { trainImagesPerSecond: known.trainImagesPerSecond, evalImagesPerSecond: known.evalImagesPerSecond, setupSeconds: known.setupSeconds, epochOverheadSeconds: known.epochOverheadSeconds, workerStartSeconds: 0, measured: '' };
    update[key] = { ...base, trainImagesPerSecond: median, measured: new Date().toISOString(), from: 'epochs' };
  }
  if (Object.keys(update).length > 0) writeCache(update);
}

/** Times the models in as many workers as the run will start, all at once; the rates are their means. */
function measureRates(inputs: EstimateInputs, models: readonly string[]): Promise<{ rates: Record<string, ModelRate>; workerStartSeconds: number }> {
  const count = Math.max(1, inputs.workers);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const results: Record<string, ModelRate[]> = {};
    const starts: number[] = [];
    let finished = 0;
    let settled = false;
    const children = Array.from({ length: count }, (_, w) => spawnWorker(inputs.probe.cwd, inputs.threads, inputs.probe.env(w)));
    const end = (error?: Error) => {
      if (settled) return;
      settled = true;
      for (const child of children) child.kill('SIGKILL');
      if (error) return reject(error);
      const rates: Record<string, ModelRate> = {};
      for (const model of models) {
        const r = results[model] ?? [];
        const mean = (f: (x: ModelRate) => number) => r.reduce((s, x) => s + f(x), 0) / Math.max(1, r.length);
        rates[model] = { trainImagesPerSecond: mean((x) => x.trainImagesPerSecond), evalImagesPerSecond: mean((x) => x.evalImagesPerSecond), setupSeconds: mean((x) => x.setupSeconds), epochOverheadSeconds: mean((x) => x.epochOverheadSeconds) };
      }
      resolve({ rates, workerStartSeconds: Math.max(0, ...starts) });
    };
    inputs.signal?.addEventListener('abort', () => end(new Error('stopped while timing the models')));
    for (const child of children) {
      const queue = [...models];
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
      const next = () => {
        const model = queue.shift();
        if (model === undefined) {
          if (++finished === count) end();
          return;
        }
        child.send({ type: 'probe', model } satisfies ToWorker);
      };
      child.on('message', (raw) => {
        const message = raw as FromWorker;
        if (message.type === 'ready') {
          starts.push((performance.now() - started) / 1000);
          next();
        } else if (message.type === 'probe-result') {
          (results[message.model] ??= []).push(message.rate);
          next();
        } else if (message.type === 'fatal') end(new Error(message.message));
      });
      child.on('exit', (code, signal) => {
        if (!settled) end(new Error(`a worker timing the models exited with ${signal ?? code}${stderr ? `: ${stderr.trim().split('\n').slice(-2).join(' | ')}` : ''}`));
      });
      child.send(inputs.probe.init);
    }
  });
}

const thousands = (n: number) => Math.round(n).toLocaleString('en-US');

function compact(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  return thousands(n);
}

/** The work and the estimate, for the terminal: two lines. */
export function describeEstimate(e: RunEstimate): string[] {
  if (e.tasks === 0) return ['work: none, every task of this run is finished (--new starts a new run folder)'];
  const rates = Object.entries(e.models)
    .map(([model, r]) => `${model} ${r.source === 'recorded' ? `${r.epochSeconds!.toFixed(0)} s/epoch` : `${r.trainImagesPerSecond.toFixed(0)} img/s`} (${r.source})`)
    .join(', ');
  return [
    `work: ${e.tasks} task${e.tasks === 1 ? '' : 's'} x ${e.epochs} epoch${e.epochs === 1 ? '' : 's'} x ${thousands(e.rows)} rows = ${compact(e.images)} training images`,
    `estimate: about ${formatDuration(e.seconds)} on ${e.workers} worker${e.workers === 1 ? '' : 's'} (${e.backend}${e.backend === 'tensorflow' ? `, ${e.threads} thread${e.threads === 1 ? '' : 's'} each` : ''}; ${rates}); early stopping can only shorten it`,
  ];
}

/** What would make a long run shorter, for this config. */
export function shortenings(e: RunEstimate, command: string, onGpu: boolean): string[] {
  // A task is the unit a shard runs, so a single task cannot be split (long.yaml trains one network).
  const machines = Math.min(e.tasks, Math.max(2, Math.ceil(e.seconds / LONG_RUN_SECONDS)));
  const fewer = Math.max(1, Math.floor(e.epochs / 4));
  return [
    ...(machines >= 2
      ? [`split it across ${machines} machines sharing the runs folder: ${command} --shard i/${machines} on machine i, then ${command} --collect (about ${formatDuration(e.seconds / machines)} each)`]
      : []),
    ...(onGpu ? [] : ['train on a GPU: fer setup native --gpu on a machine with an NVIDIA GPU (docs/engine.md)']),
    `fewer epochs: --set training.epochs=${fewer} (about ${formatDuration((e.seconds * fewer) / Math.max(1, e.epochs))})`,
    `check the whole pipeline first, in minutes: ${command} --smoke`,
  ];
}
