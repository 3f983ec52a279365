import { randomUUID } from 'node:crypto';
import { existsSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { loadConfigWithPlugins } from '../config/read.js';
import { DataError } from '../core/data-error.js';
import { loadDataset } from '../data/load.js';
import type { Dataset } from '../data/dataset.js';
import { predictBackend, predictNativePackage, type BackendRequest } from '../backend/backend.js';
import { machineDevices } from '../backend/devices.js';
import { kernelRecord, type KernelRecord } from '../backend/kernel-choice.js';
import { checkCollectable, evaluateRun } from './collect.js';
import type { EnsembleSummary } from '../ensemble/summary.js';
import { runTracking } from '../track/sink-kinds.js';
import { RunTracker, type TrackingOutcome } from '../track/tracker.js';
import { PARENT_RUN } from '../track/journal.js';
import { ferVersion } from '../core/package.js';
import type { Progress } from '../core/progress.js';
import { formatDuration, type RunDisplay } from './display.js';
import { placeWorkers, runPool, type WorkerPlacement } from './pool.js';
import { numericsEnvironment, numericsKey, readTaskNumerics, type TaskNumerics } from '../store/task-numerics.js';
import { RemainingTime } from './remaining.js';
import { smokeDataset, smokeLoaded } from './smoke.js';
import { estimateRun, learnRates, type RunEstimate } from './estimate.js';
import type { WorkerInit } from './protocol.js';
import { workerInit } from './worker-setup.js';
import { loadedPlugins } from '../plugins/loader.js';
import { runConfigDigest } from './run-identity.js';
import { RunTracking } from './run-tracking.js';
import { DamagedFileError, DiskFullError } from '../core/durable-file.js';
import {
  damagedTaskFile,
  readRunManifest,
  readTaskStatus,
  runDigest,
  runFolder,
  taskFingerprint,
  writeResolvedConfig,
  writeRunManifest,
  type RunManifest,
} from '../store/run-folder.js';
import { describeOwner } from '../store/lock.js';
import { claimedTasks, RunBusyError, RunLocks } from '../store/run-lock.js';
import { expandTasks, shardTasks, type Task } from '../store/tasks.js';
import { SystemReader, SystemSampler } from './system-sampler.js';
import { drawRunPictures } from './run-pictures.js';
import type { PictureFile } from '../pictures/picture-file.js';

export interface RunOptions {
  configFile: string;
  overrides: readonly string[];
  cwd: string;
  runsDir: string;
  /** Worker processes (default: one per core on CPU backends, each with one thread). */
  workers?: number;
  backend?: BackendRequest;
  shard?: { index: number; count: number };
  /** A new run folder even if one exists for this config and data. */
  fresh?: boolean;
  /** The smoke run of the config (smoke.ts): every task briefly, on a slice of the data, as its own experiment. */
  smoke?: boolean;
  /** Only build the ensemble from the tasks' saved outputs (after shards). */
  collectOnly?: boolean;
  display: RunDisplay;
  dataProgress?: Progress;
  signal?: AbortSignal;
  /** The MLflow server (--tracking-uri), before the config's tracking.uri and MLFLOW_TRACKING_URI. */
  trackingUri?: string;
  /** Pictures that need the trained models (saliency maps: predict/ loads them), drawn once the ensemble is built. */
  modelPictures?: (runDir: string, dataset: Dataset) => Promise<PictureFile[]>;
  /** This run folder instead of runs/<experiment>/run-<digest> (a sweep's trial lives in the sweep's folder). */
  runDir?: string;
  /** Tags for the run's tracking (a sweep's trial: its sweep, its id, mlflow.parentRunId to nest it). */
  trackingTags?: Record<string, string>;
  /** The run's name in tracking instead of the one made from the config and overrides (a trial: its id). */
  trackingName?: string;
  /** The caller's last word before the run's tracking ends: tags and metrics for the run (a trial's objective and state). */
  beforeTrackingEnd?: (state: RunManifest['state']) => { tags?: Record<string, string>; metrics?: Record<string, number> } | undefined;
  /**
   * Hears the estimate of the work to do before anything is written (undefined and the reason when
   * it could not be made); false declines the run, which then writes nothing. Without it, no estimate.
   */
  beforeTraining?: (estimate: RunEstimate | undefined, problem?: string) => Promise<boolean>;
}

export interface RunResult {
  runDir: string;
  state: RunManifest['state'];
  tasks: { key: string; state: string }[];
  summary?: EnsembleSummary;
  skipped: number;
  tracking: TrackingOutcome;
  /** beforeTraining said no: nothing was trained or written. */
  declined?: boolean;
  estimate?: RunEstimate;
}

export async function prepareRun(options: Pick<RunOptions, 'configFile' | 'overrides' | 'cwd' | 'runsDir' | 'fresh' | 'dataProgress' | 'runDir' | 'smoke'>) {
  const read = await loadConfigWithPlugins(options.configFile, { overrides: options.overrides, cwd: options.cwd });
  const loaded = options.smoke ? smokeLoaded(read) : read;
  if (!loaded.config.data) throw new DataError(`${options.configFile} has no data section: fer run needs data to train on`);
  const whole = (await loadDataset({ data: loaded.config.data, seed: loaded.config.seed, registry: loaded.registry, ...(options.dataProgress ? { progress: options.dataProgress } : {}) })).dataset;
  const dataset = options.smoke ? smokeDataset(loaded.config, whole) : whole;
  // The plugins' code is part of the config's identity: an edited plugin gets a new run folder.
  const configDigest = runConfigDigest(loaded.config, loaded.file, loadedPlugins(loaded.registry).map((p) => p.digest));
  const runDir = options.runDir ?? runFolder(options.runsDir, loaded.config.name, runDigest(configDigest, dataset.digest), options.fresh ?? false);
  return { loaded, dataset, configDigest, runDir, tasks: expandTasks(loaded.config) };
}

type Prepared = Awaited<ReturnType<typeof prepareRun>>;

/** Where the workers of a run go, and the backend they use. */
function placement(options: Pick<RunOptions, 'backend' | 'workers'>, loaded: Prepared['loaded'], tasks: number) {
  const backendRequest = options.backend ?? loaded.config.engine.backend;
  const backend = predictBackend(backendRequest);
  return { backendRequest, backend, ...placeWorkers({ backend, package: predictNativePackage(), devices: machineDevices() }, tasks, { workers: options.workers, threads: loaded.config.engine.threads }) };
}

/** The estimate of a prepared run's unfinished tasks (of its shard), without touching its folder. */
export async function estimatePrepared(
  options: Pick<RunOptions, 'backend' | 'workers' | 'shard' | 'cwd' | 'signal' | 'smoke'>,
  prepared: Prepared,
  say: (text: string) => void,
): Promise<RunEstimate> {
  const { loaded, dataset, configDigest, runDir, tasks } = prepared;
  const fingerprint = (task: Task) => taskFingerprint(task.key, configDigest, dataset.digest);
  const mine = shardTasks(tasks, options.shard);
  const todo = mine.filter((t) => {
    const status = readTaskStatus(runDir, t.key);
    return !(status?.state === 'finished' && status.fingerprint === fingerprint(t));
  });
  const place = placement(options, loaded, Math.max(1, todo.length));
  const init = workerInit(loaded, { config: configDigest, data: dataset.digest }, { runDir, cwd: options.cwd, backend: place.backendRequest, deterministic: loaded.config.engine.deterministic, smoke: options.smoke ?? false });
  return estimateRun({
    loaded,
    dataset,
    tasks: todo,
    runDir,
    backend: place.backend,
    workers: place.workers,
    threads: place.threads,
    probe: { init, cwd: options.cwd, env: place.env },
    ...(options.signal ? { signal: options.signal } : {}),
    onMeasure: (models) => say(`timing a few training steps of ${models.join(', ')} for the estimate (once per model and backend)`),
  });
}

/**
 * Runs an experiment: every task not yet finished, in worker processes, then the ensemble and its
 * evaluation. Interrupted (Ctrl-C, a kill) and run again, it trains only what is missing and
 * continues cut tasks from their last epoch.
 */
export async function runExperiment(options: RunOptions): Promise<RunResult> {
  const prepared = await prepareRun(options);
  // Before anything in the folder is written: a second `fer run` (or the same shard twice) stops here, naming the holder.
  const command = ownerCommand(options);
  const existed = existsSync(prepared.runDir);
  const locks = options.collectOnly && !existed ? RunLocks.none(prepared.runDir, command) : await RunLocks.take(prepared.runDir, command, options.shard, (text) => options.display.message(text));
  try {
    // The estimate comes once the run is ours (a second fer run learns at once who holds it) and
    // before anything but the lock is written.
    let estimate: RunEstimate | undefined;
    if (options.beforeTraining && !options.collectOnly) {
      let problem: string | undefined;
      try {
        estimate = await estimatePrepared(options, prepared, (text) => options.display.message(text));
      } catch (error) {
        problem = error instanceof Error ? error.message : String(error);
      }
      // Stopped while the models were being timed, or declined: nothing is trained or kept.
      if (options.signal?.aborted || !(await options.beforeTraining(estimate, problem))) {
        locks.releaseAll();
        if (!existed) removeEmptyRunFolder(prepared.runDir);
        return { runDir: prepared.runDir, state: readRunManifest(prepared.runDir)?.state ?? 'killed', tasks: [], skipped: 0, tracking: { uri: null, experiment: prepared.loaded.config.name, parentRunId: null, pending: 0, sinks: [] }, declined: true, ...(estimate ? { estimate } : {}) };
      }
    }
    const result = await runLocked(options, prepared, locks, estimate);
    // A smoke run's epochs are a couple of tiny batches: they say nothing of a real epoch's speed.
    if (estimate && !options.smoke) learnRates(prepared.loaded, prepared.dataset, prepared.runDir, shardTasks(prepared.tasks, options.shard), estimate);
    return estimate ? { ...result, estimate } : result;
  } finally {
    locks.releaseAll();
  }
}

/** A run folder made only to hold the lock of a run that did not start goes again (and its experiment's folder, if empty). */
function removeEmptyRunFolder(runDir: string): void {
  for (const dir of [runDir, path.dirname(runDir)]) {
    try {
      rmdirSync(dir);
    } catch {
      return;
    }
  }
}

/** How a lock names its holder to whoever finds it taken. */
function ownerCommand(options: RunOptions): string {
  return `fer run ${options.configFile}${options.smoke ? ' --smoke' : ''}${options.shard ? ` --shard ${options.shard.index}/${options.shard.count}` : ''}${options.collectOnly ? ' --collect' : ''}`;
}

async function runLocked(options: RunOptions, { loaded, dataset, configDigest, runDir, tasks }: Prepared, locks: RunLocks, estimate: RunEstimate | undefined): Promise<RunResult> {
  const config = loaded.config;
  const mine = shardTasks(tasks, options.shard);
  const dataDigest = dataset.digest;
  const fingerprint = (task: Task) => taskFingerprint(task.key, configDigest, dataDigest);
  const isFinished = (task: Task) => {
    let status;
    try {
      status = readTaskStatus(runDir, task.key);
    } catch (error) {
      if (error instanceof DamagedFileError) return false;
      throw error;
    }
    return status?.state === 'finished' && status.fingerprint === fingerprint(task);
  };
  if (options.collectOnly) {
    const busy = claimedTasks(runDir, tasks);
    if (busy.length > 0) {
      throw new RunBusyError(
        `${busy.length} task${busy.length === 1 ? ' is' : 's are'} being trained: ${busy.map((b) => `${b.key} by ${describeOwner(b.owner)}`).join('; ')}`,
        'collect when they have finished',
      );
    }
  }
  let trackingResult: RunResult['tracking'] = { uri: null, experiment: config.name, parentRunId: null, pending: 0, sinks: [] };

  if (options.collectOnly) checkCollectable({ runDir, runsDir: options.runsDir, experiment: config.name, configDigest, dataDigest, cwd: options.cwd }, tasks, fingerprint);

  let existing: RunManifest | undefined;
  try {
    existing = readRunManifest(runDir);
  } catch (error) {
    if (!(error instanceof DamagedFileError)) throw error;
    options.display.message(`${error.message}: written anew (the run gets a new MLflow parent run)`);
  }
  const now = new Date().toISOString();
  const { backendRequest, backend: predicted } = placement(options, loaded, 1);
  // Which kernels a native run takes (FER_KERNELS, else the CPU) and on which CPU: its numbers depend on both.
  const kernels = predicted === 'tensorflow' ? kernelRecord() : undefined;
  const manifest: RunManifest & { uid: string } = {
    runId: path.basename(runDir),
    // Names this run in MLflow across reruns, resumes and shards (the folder name is shared by
    // anyone running the same config on the same data, this is not).
    uid: existing?.uid ?? randomUUID(),
    experiment: config.name,
    configFile: loaded.file,
    configDigest,
    dataDigest,
    created: existing?.created ?? now,
    updated: now,
    state: 'running',
    ferVersion: ferVersion(),
    backend: predicted,
    ...(kernels ? { kernels } : {}),
    tasks: tasks.length,
    // Where each plugin was loaded from, so evaluate and predict load the same code for saved models.
    plugins: loadedPlugins(loaded.registry).map((p) => ({ name: p.plugin.name, version: p.plugin.version, spec: p.spec, source: p.source, digest: p.digest })),
  };
  writeRunManifest(runDir, manifest);
  const where = runTracking({ ...(options.trackingUri ? { cliUri: options.trackingUri } : {}), config: config.tracking, configName: config.name });
  const writer = options.shard ? `shard-${options.shard.index}-of-${options.shard.count}` : 'main';
  let tracker: RunTracker;
  try {
    writeResolvedConfig(runDir, config, loaded.files, loaded.sources);
    tracker = new RunTracker({ runDir, writer, experiment: where.experiment, sinks: where.sinks, log: (text) => options.display.message(text) });
  } catch (error) {
    // A full disk before training: the run is not left `running`.
    manifest.state = 'failed';
    writeRunManifest(runDir, manifest);
    throw error;
  }
  try {
    await tracker.preflight();
  } catch (error) {
    await tracker.shutdown();
    throw error;
  }
  const tracking = new RunTracking({ tracker, runDir, config, configFile: loaded.file, configFiles: loaded.files, dataset, manifest, tasks, cwd: options.cwd, overrides: options.overrides, ...(options.trackingTags ? { extraTags: options.trackingTags } : {}), ...(options.trackingName ? { runName: options.trackingName } : {}), ...(options.smoke ? { smoke: true } : {}) });
  // Only the tasks no other process is training (shards and runs sharing the folder), claimed once
  // the run can be recorded; a task finished while its claim was being taken is done.
  // A finished task whose files are damaged (or whose status is) is trained again: from its
  // checkpoint when that is intact, which rewrites the model and predictions without an epoch.
  const damaged = options.collectOnly ? new Map<string, string>() : damagedTasks(runDir, mine);
  const isIntact = (t: Task) => isFinished(t) && !damaged.has(t.key);
  const claims = locks.claim(options.collectOnly ? [] : mine.filter((t) => !isIntact(t)));
  const pending: Task[] = [];
  for (const t of claims.claimed) {
    if (isIntact(t)) locks.release(t.key);
    else pending.push(t);
  }
  const skipped = mine.length - pending.length - claims.elsewhere.length;
  options.display.start(
    `run ${path.relative(options.cwd, runDir) || runDir}: ${tasks.length} task${tasks.length === 1 ? '' : 's'}${options.shard ? `, shard ${options.shard.index}/${options.shard.count} has ${mine.length}` : ''}, ${skipped} already done, ${pending.length} to train${claims.elsewhere.length > 0 ? `, ${claims.elsewhere.length} being trained elsewhere` : ''}`,
  );
  if (locks.tookOver) options.display.message(`took over from ${describeOwner(locks.tookOver.owner)}: ${locks.tookOver.reason}`);
  for (const t of claims.tookOver) options.display.message(`${t.key}: took over from ${describeOwner(t.owner)}: ${t.reason}`);
  for (const t of claims.elsewhere) options.display.message(`${t.key} is being trained by ${describeOwner(t.owner)}: left to it`);
  options.display.message(tracker.describe());
  for (const t of pending) {
    const why = damaged.get(t.key);
    if (why) options.display.message(`${t.key}: ${why}: training the task again`);
  }

  const results = new Map<string, string>();
  const failures: { key: string; error: string }[] = [];
  let summary: EnsembleSummary | undefined;
  // Stops the workers when a task finds the disk full (or Ctrl-C does): the others would too.
  const stop = new AbortController();
  options.signal?.addEventListener('abort', () => stop.abort());
  let diskFull: DiskFullError | undefined;
  try {
    tracking.start();
    if (tracker.diskFull) throw tracker.diskFull;
    for (const t of mine) if (isFinished(t)) results.set(t.key, 'finished');
    // A task that finished while the journal could not be written (a full disk) left its child run
    // open in this journal: its end is recorded now, from its files.
    for (const t of mine) if (isIntact(t) && tracker.isOpen(t.key)) tracking.taskFinished(t.key, readTaskStatus(runDir, t.key)?.bestEpoch ?? 0);
    let failed = false;
    if (pending.length > 0) {
      const place = placement(options, loaded, pending.length);
      const backend = place.backend;
      const groups = numericsGroups({ runDir, pending, fingerprint, placement: place, backend, kernels, requestedWorkers: options.workers, message: (text) => options.display.message(text) });
      for (const group of groups) {
        const { workers: workerCount, threads } = group;
        options.display.message(
          `${group.resumed ? `${group.tasks.length} task${group.tasks.length === 1 ? '' : 's'} with the threads and kernels ${group.tasks.length === 1 ? 'it' : 'they'} started with: ` : ''}${workerCount} worker${workerCount === 1 ? '' : 's'}, backend ${backend}${backend === 'tensorflow' ? `, ${threads} thread${threads === 1 ? '' : 's'} each` : ''}${group.resumed && group.kernelText ? `, kernels ${group.kernelText}` : ''}${place.summary}`,
        );
      }
      // Workers get the config, plugins and data digests as read here, never the YAML's path.
      const init = workerInit(loaded, { config: configDigest, data: dataDigest }, { runDir, cwd: options.cwd, backend: backendRequest, deterministic: config.engine.deterministic, smoke: options.smoke ?? false });
      const onDiskFull = (full: DiskFullError) => {
        diskFull ??= full;
        stop.abort();
      };
      failed = await trainTasks({ options, init, groups, fingerprint, results, tracking, failures, locks, stop: stop.signal, onDiskFull, systemMetricsSeconds: config.tracking.system_metrics_seconds, ...(estimate ? { estimate } : {}) });
      // A full disk ends the run with one line naming the path; finished tasks stay, a rerun resumes the rest.
      const full = diskFull ?? tracker.diskFull;
      if (full) throw full;
    }

    const allDone = tasks.every((t) => isFinished(t));
    if (allDone && options.shard) {
      // The ensemble is built under the run's lock (fer run, or --collect after shards), by one
      // writer: shards finishing together would each log it to MLflow.
      manifest.state = existing?.state === 'finished' ? 'finished' : 'running';
    } else if (allDone) {
      summary = evaluateRun(runDir, config, tasks);
      manifest.state = 'finished';
      try {
        tracking.pictures(drawRunPictures(runDir, config, dataset, tasks));
        if (options.modelPictures) tracking.pictures(await options.modelPictures(runDir, dataset));
      } catch (error) {
        // The results stand without their pictures; say why they are missing.
        options.display.message(`pictures not drawn: ${(error as Error).message}`);
      }
    } else {
      manifest.state = options.signal?.aborted ? 'killed' : failed ? 'failed' : 'running';
    }
    // The manifest as it ends, before tracking logs the ensemble model (run.json is one of its files).
    writeRunManifest(runDir, { ...manifest, updated: new Date().toISOString() });
    const last = options.beforeTrackingEnd?.(manifest.state);
    if (last?.tags) tracker.setTags(PARENT_RUN, last.tags);
    if (last?.metrics) tracker.logMetrics(PARENT_RUN, last.metrics, 0);
    tracking.end(manifest.state, summary, failures);
  } catch (error) {
    // Whatever broke, the run is not left RUNNING in MLflow: it ends FAILED with the reason.
    manifest.state = 'failed';
    tracking.end('failed', undefined, [...failures, { key: 'run', error: error instanceof Error ? error.message : String(error) }]);
    throw error;
  } finally {
    manifest.updated = new Date().toISOString();
    writeRunManifest(runDir, manifest);
    trackingResult = await finishTracking(tracker, options, runDir, config.tracking.flush_seconds);
  }
  return {
    runDir,
    state: manifest.state,
    tasks: mine.map((t) => ({ key: t.key, state: results.get(t.key) ?? readTaskStatus(runDir, t.key)?.state ?? 'pending' })),
    ...(summary ? { summary } : {}),
    skipped,
    tracking: trackingResult,
  };
}

/** Tasks whose status.json, or (finished) any file later steps read, fails its checksum: key -> why. */
function damagedTasks(runDir: string, tasks: readonly Task[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const task of tasks) {
    try {
      if (readTaskStatus(runDir, task.key)?.state !== 'finished') continue;
    } catch (error) {
      if (!(error instanceof DamagedFileError)) throw error;
      out.set(task.key, error.message);
      continue;
    }
    const why = damagedTaskFile(runDir, task.key);
    if (why) out.set(task.key, why);
  }
  return out;
}

/** Gives delivery its last chance, says what is left and how to send it, and closes the journal. */
async function finishTracking(tracker: RunTracker, options: RunOptions, runDir: string, flushSeconds: number): Promise<RunResult['tracking']> {
  const outcome = await tracker.finish(flushSeconds * 1000);
  const where = path.relative(options.cwd, runDir) || runDir;
  for (const [i, sink] of tracker.sinks.entries()) {
    const done = outcome.sinks[i]!;
    if (done.pending > 0) {
      options.display.message(`${done.pending} tracking event${done.pending === 1 ? '' : 's'} not yet in ${sink.title}${done.error ? ` (${done.error})` : ''}; they are kept in ${where}/tracking: send them with fer sync ${where}${sink.syncTo ? ` --to ${sink.syncTo}` : ''}`);
    } else if (done.link) {
      options.display.message(`${sink.title}: ${done.link}`);
    }
  }
  return outcome;
}

/** Tasks that train with the same numerics (threads, kernels), in one pool of workers. */
interface NumericsGroup {
  tasks: Task[];
  workers: number;
  threads: number;
  env: (worker: number) => Record<string, string>;
  /** Tasks resumed or retried with the numerics they recorded (not this run's choice). */
  resumed: boolean;
  kernelText?: string;
}

/**
 * Splits the pending tasks by the numerics they must run with: a task that recorded its threads and
 * kernels when it first started (store/task-numerics.ts) resumes or retries with them, whatever the
 * worker count and the machine would give now; the others take this run's placement. Groups train
 * one after another.
 */
function numericsGroups(input: {
  runDir: string;
  pending: readonly Task[];
  fingerprint: (task: Task) => string;
  placement: WorkerPlacement;
  backend: string;
  kernels: KernelRecord | undefined;
  requestedWorkers: number | undefined;
  message: (text: string) => void;
}): NumericsGroup[] {
  const { placement } = input;
  const current = { threads: placement.threads, kernels: input.kernels ? { fusedConvolution: input.kernels.fusedConvolution, largeFilterGradients: input.kernels.largeFilterGradients } : null };
  const byKey = new Map<string, { numerics: Pick<TaskNumerics, 'threads' | 'kernels'>; tasks: Task[] }>();
  for (const task of input.pending) {
    const recorded = readTaskNumerics(input.runDir, task.key, input.fingerprint(task), (why) => input.message(`${task.key}: ${why}: runs with this run's threads and kernels`));
    const numerics = recorded && recorded.backend === input.backend ? { threads: recorded.threads, kernels: input.kernels ? recorded.kernels : null } : current;
    const key = numericsKey(numerics);
    const group = byKey.get(key) ?? { numerics, tasks: [] };
    group.tasks.push(task);
    byKey.set(key, group);
  }
  const cores = Math.max(1, machineDevices().cpu.cores);
  return [...byKey.entries()].map(([key, { numerics, tasks }]) => {
    const resumed = key !== numericsKey(current);
    const workers = resumed ? Math.max(1, Math.min(input.requestedWorkers ?? Math.floor(cores / numerics.threads), tasks.length)) : Math.min(placement.workers, tasks.length);
    return {
      tasks,
      workers,
      threads: numerics.threads,
      env: (w: number) => ({ ...placement.env(w), ...(resumed ? numericsEnvironment(numerics) : {}) }),
      resumed,
      ...(numerics.kernels ? { kernelText: `${numerics.kernels.fusedConvolution}/${numerics.kernels.largeFilterGradients}` } : {}),
    };
  });
}

interface TrainingPlan {
  options: RunOptions;
  init: WorkerInit;
  groups: NumericsGroup[];
  fingerprint: (task: Task) => string;
  results: Map<string, string>;
  tracking: RunTracking;
  failures: { key: string; error: string }[];
  /** A task's claim goes when the task ends, so others may collect or resume it. */
  locks: RunLocks;
  /** Ctrl-C, or a full disk: the workers stop after their current batch. */
  stop: AbortSignal;
  onDiskFull: (error: DiskFullError) => void;
  /** How often running tasks get a reading of the machine's use (0: never). */
  systemMetricsSeconds: number;
  /** Each task's estimated seconds, which the remaining time starts from. */
  estimate?: RunEstimate;
}

/** Trains the pending tasks in worker pools (one per numerics group, in turn), showing and tracking what happens; returns whether any failed. */
async function trainTasks(plan: TrainingPlan): Promise<boolean> {
  const { options, tracking, results, failures } = plan;
  const display = options.display;
  const total = plan.groups.reduce((n, g) => n + g.tasks.length, 0);
  let done = 0;
  const remaining = new RemainingTime(plan.groups.flatMap((g) => g.tasks.map((t) => t.key)), Math.max(...plan.groups.map((g) => g.workers)), plan.estimate?.taskSeconds);
  const epochs = plan.init.config.config.training.epochs;
  const showOverall = () => display.overall(done, total, remaining.seconds(), remaining.fractionDone());
  const sampler = new SystemSampler({
    intervalMs: plan.systemMetricsSeconds * 1000,
    reader: new SystemReader(plan.init.runDir),
    record: (key, metrics, timestamp) => tracking.systemMetrics(key, metrics, timestamp),
  });
  options.signal?.addEventListener('abort', () => display.message('stopping: running tasks end after their current batch (their last epoch checkpoint stays for a rerun)'));
  let failed = false;
  try {
    for (const group of plan.groups) {
      if (plan.stop.aborted) break;
      if (await runGroup(group)) failed = true;
    }
  } finally {
    sampler.stop();
  }
  return failed;

  function runGroup(group: NumericsGroup): Promise<boolean> {
  return runPool({
    tasks: group.tasks,
    fingerprint: plan.fingerprint,
    workers: group.workers,
    threads: group.threads,
    workerEnv: group.env,
    cwd: options.cwd,
    signal: plan.stop,
    init: plan.init,
    events: {
      ready: (backend, reason) => display.message(`backend: ${backend} (${reason})`),
      taskStart: (w, key) => {
        display.taskStart(w, key);
        remaining.started(key);
        showOverall();
        tracking.taskStart(key);
        sampler.taskStart(key);
      },
      batch: (w, key, progress) => {
        remaining.progress(key, (progress.epoch - 1 + progress.batch / Math.max(1, progress.batches)) / Math.max(1, epochs));
        display.batch(w, key, progress);
        showOverall();
      },
      epoch: (w, key, metrics) => {
        display.epoch(w, key, metrics);
        tracking.epoch(key, metrics);
      },
      notice: (_w, key, message) => {
        display.message(`${key}: ${message}`);
        tracking.notice(key, message);
      },
      taskEnd: (w, key, o, seconds) => {
        plan.locks.release(key);
        sampler.taskEnd(key);
        if (o.state === 'finished') tracking.taskFinished(key, o.bestEpoch);
        else tracking.taskEnded(key, 'KILLED');
        results.set(key, o.state);
        if (o.state === 'finished') {
          done++;
          remaining.ended(key, seconds);
          const last = o.history[o.bestEpoch - 1] ?? o.history[o.history.length - 1];
          const val = last?.val_accuracy !== undefined ? `, val_acc ${(last.val_accuracy * 100).toFixed(1)}% at epoch ${o.bestEpoch}` : '';
          display.taskEnd(w, key, `finished${o.resumedAfter ? ` (resumed after epoch ${o.resumedAfter})` : ''}${val}, ${formatDuration(seconds)}`);
          showOverall();
        } else {
          display.taskEnd(w, key, `stopped after epoch ${o.history.length}; rerun the command to continue it`);
        }
      },
      taskFailed: (w, key, error, crashed, full) => {
        plan.locks.release(key);
        sampler.taskEnd(key);
        remaining.abandoned(key);
        if (full) plan.onDiskFull(new DiskFullError(full.file, full.needed, full.free ?? undefined));
        if (error !== undefined) failures.push({ key, error });
        tracking.taskEnded(key, error !== undefined ? 'FAILED' : 'KILLED', error);
        if (!crashed) {
          results.set(key, 'failed');
          display.taskEnd(w, key, `FAILED: ${error}`);
        }
      },
      message: (text) => display.message(text),
    },
  });
  }
}
