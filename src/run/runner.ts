import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { DataError } from '../data/dataset.js';
import { loadDataset } from '../data/load.js';
import { predictBackend, type BackendRequest } from '../engine/backend.js';
import { evaluateRun, type EnsembleSummary } from '../ensemble/evaluate-run.js';
import { ferVersion } from '../util/package.js';
import type { Progress } from '../util/progress.js';
import { formatDuration, type RunDisplay } from './display.js';
import type { FromWorker, ToWorker } from './protocol.js';
import {
  configDigest as digestOfConfig,
  readJson,
  readTaskStatus,
  runDigest,
  runFolder,
  taskFingerprint,
  writeAtomic,
  writeResolvedConfig,
  type RunManifest,
} from './run-folder.js';
import { expandTasks, shardTasks, type Task } from './tasks.js';

/** Worker processes of runs in progress, so a forced quit (a second Ctrl-C) can end them too. */
const activeWorkers = new Set<ChildProcess>();

/** Ends every worker at once: for a forced quit. Their last epoch checkpoints stay; a rerun resumes. */
export function killWorkers(): void {
  for (const child of activeWorkers) child.kill('SIGKILL');
}

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
  /** Only build the ensemble from the tasks' saved outputs (after shards). */
  collectOnly?: boolean;
  display: RunDisplay;
  dataProgress?: Progress;
  signal?: AbortSignal;
}

export interface RunResult {
  runDir: string;
  state: RunManifest['state'];
  tasks: { key: string; state: string }[];
  summary?: EnsembleSummary;
  skipped: number;
}

const workerScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.js');

/** Threads each worker gives TensorFlow: the cores shared out, at least one. */
export function defaultWorkers(backend: string, cores: number, tasks: number): { workers: number; threads: number } {
  const workers = Math.max(1, Math.min(tasks, cores));
  return { workers, threads: backend === 'tensorflow' ? Math.max(1, Math.floor(cores / workers)) : 1 };
}

export async function prepareRun(options: Pick<RunOptions, 'configFile' | 'overrides' | 'cwd' | 'runsDir' | 'fresh' | 'dataProgress'>) {
  const loaded = loadConfig(options.configFile, { overrides: options.overrides, cwd: options.cwd });
  if (!loaded.config.data) throw new DataError(`${options.configFile} has no data section: fer run needs data to train on`);
  const { dataset } = await loadDataset({ data: loaded.config.data, seed: loaded.config.seed, ...(options.dataProgress ? { progress: options.dataProgress } : {}) });
  const configDigest = digestOfConfig(loaded.config);
  const runDir = runFolder(options.runsDir, loaded.config.name, runDigest(configDigest, dataset.digest), options.fresh ?? false);
  return { loaded, dataset, configDigest, runDir, tasks: expandTasks(loaded.config) };
}

/**
 * Runs an experiment: every task not yet finished, in worker processes, then the ensemble and its
 * evaluation. Interrupted (Ctrl-C, a kill) and run again, it trains only what is missing and
 * continues cut tasks from their last epoch.
 */
export async function runExperiment(options: RunOptions): Promise<RunResult> {
  const { loaded, dataset, configDigest, runDir, tasks } = await prepareRun(options);
  const config = loaded.config;
  const mine = options.shard ? shardTasks(tasks, options.shard) : tasks;
  const dataDigest = dataset.digest;
  const fingerprint = (task: Task) => taskFingerprint(task.key, configDigest, dataDigest);
  const isFinished = (task: Task) => {
    const status = readTaskStatus(runDir, task.key);
    return status?.state === 'finished' && status.fingerprint === fingerprint(task);
  };
  const pending = options.collectOnly ? [] : mine.filter((t) => !isFinished(t));
  const skipped = mine.length - pending.length;

  const existing = readJson<RunManifest>(path.join(runDir, 'run.json'));
  const now = new Date().toISOString();
  const backendRequest = options.backend ?? config.engine.backend;
  const manifest: RunManifest = {
    runId: path.basename(runDir),
    experiment: config.name,
    configFile: loaded.file,
    configDigest,
    dataDigest,
    created: existing?.created ?? now,
    updated: now,
    state: 'running',
    ferVersion: ferVersion(),
    backend: predictBackend(backendRequest),
    tasks: tasks.length,
  };
  writeAtomic(path.join(runDir, 'run.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeResolvedConfig(runDir, config, loaded.files, loaded.sources);
  options.display.start(
    `run ${path.relative(options.cwd, runDir) || runDir}: ${tasks.length} task${tasks.length === 1 ? '' : 's'}${options.shard ? `, shard ${options.shard.index}/${options.shard.count} has ${mine.length}` : ''}, ${skipped} already done, ${pending.length} to train`,
  );

  const results = new Map<string, string>();
  for (const t of mine) if (isFinished(t)) results.set(t.key, 'finished');
  let failed = false;
  if (pending.length > 0) {
    const cores = os.availableParallelism?.() ?? os.cpus().length;
    const planned = defaultWorkers(manifest.backend ?? 'cpu', cores, pending.length);
    const workerCount = Math.max(1, Math.min(options.workers ?? planned.workers, pending.length));
    const threads = config.engine.threads ?? (options.workers ? Math.max(1, Math.floor(cores / workerCount)) : planned.threads);
    options.display.message(`${workerCount} worker${workerCount === 1 ? '' : 's'}, backend ${manifest.backend}${manifest.backend === 'tensorflow' ? `, ${threads} thread${threads === 1 ? '' : 's'} each` : ''}`);
    failed = await runWorkers({ options, config, runDir, configDigest, pending, fingerprint, workerCount, threads, backendRequest, results });
  }

  const allDone = tasks.every((t) => isFinished(t));
  let summary: EnsembleSummary | undefined;
  if (allDone) {
    summary = evaluateRun(runDir, config, tasks);
    manifest.state = 'finished';
  } else {
    manifest.state = options.signal?.aborted ? 'killed' : failed ? 'failed' : 'running';
  }
  manifest.updated = new Date().toISOString();
  writeAtomic(path.join(runDir, 'run.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return {
    runDir,
    state: manifest.state,
    tasks: mine.map((t) => ({ key: t.key, state: results.get(t.key) ?? readTaskStatus(runDir, t.key)?.state ?? 'pending' })),
    ...(summary ? { summary } : {}),
    skipped,
  };
}

interface WorkerPlan {
  options: RunOptions;
  config: LoadedConfig['config'];
  runDir: string;
  configDigest: string;
  pending: Task[];
  fingerprint: (task: Task) => string;
  workerCount: number;
  threads: number;
  backendRequest: BackendRequest;
  results: Map<string, string>;
}

/** Hands tasks to workers as they free up; returns whether any task failed. */
function runWorkers(plan: WorkerPlan): Promise<boolean> {
  const { options, config, pending } = plan;
  const display = options.display;
  const queue = [...pending];
  const total = pending.length;
  let done = 0;
  let failed = false;
  const taskSeconds: number[] = [];
  const started = new Map<string, number>();
  const children: ChildProcess[] = [];

  return new Promise<boolean>((resolve) => {
    let alive = 0;
    const finishOne = () => {
      alive--;
      if (alive === 0) resolve(failed);
    };
    const next = (child: ChildProcess) => {
      const task = options.signal?.aborted ? undefined : queue.shift();
      if (!task) {
        if (child.connected) child.send({ type: 'stop' } satisfies ToWorker);
        return;
      }
      if (!child.connected) return;
      started.set(task.key, Date.now());
      child.send({ type: 'task', task, fingerprint: plan.fingerprint(task) } satisfies ToWorker);
    };
    const eta = () => {
      if (taskSeconds.length === 0) return undefined;
      const mean = taskSeconds.reduce((a, b) => a + b, 0) / taskSeconds.length;
      return ((total - done) * mean) / plan.workerCount;
    };
    options.signal?.addEventListener('abort', () => {
      display.message('stopping: running tasks end after their current batch (their last epoch checkpoint stays for a rerun)');
      for (const child of children) if (child.connected) child.send({ type: 'stop' } satisfies ToWorker);
    });

    for (let w = 0; w < plan.workerCount; w++) {
      const child = fork(workerScript, [], {
        cwd: options.cwd,
        env: { ...process.env, TF_NUM_INTRAOP_THREADS: String(plan.threads), TF_NUM_INTEROP_THREADS: '1', TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2' },
        // Workers share the parent's process group: Ctrl-C reaches them too and each stops after
        // its current batch; a kill of the group ends everything at once (no orphan writes on).
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      children.push(child);
      activeWorkers.add(child);
      alive++;
      // A worker that went away while a message was on its way: its exit is handled below.
      child.on('error', (error) => display.message(`worker ${w + 1}: ${error.message}`));
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
      });
      child.on('message', (raw) => {
        const message = raw as FromWorker;
        switch (message.type) {
          case 'ready':
            if (w === 0) display.message(`backend: ${message.backend} (${message.reason})`);
            next(child);
            break;
          case 'task-start':
            display.taskStart(w, message.key);
            break;
          case 'batch':
            display.batch(w, message.key, message.progress);
            break;
          case 'epoch':
            display.epoch(w, message.key, message.metrics);
            break;
          case 'task-end': {
            const o = message.outcome;
            plan.results.set(message.key, o.state);
            if (o.state === 'finished') {
              done++;
              taskSeconds.push((Date.now() - (started.get(message.key) ?? Date.now())) / 1000);
              const last = o.history[o.bestEpoch - 1] ?? o.history[o.history.length - 1];
              const val = last?.val_accuracy !== undefined ? `, val_acc ${(last.val_accuracy * 100).toFixed(1)}% at epoch ${o.bestEpoch}` : '';
              display.taskEnd(w, message.key, `finished${o.resumedAfter ? ` (resumed after epoch ${o.resumedAfter})` : ''}${val}, ${formatDuration(taskSeconds[taskSeconds.length - 1]!)}`);
              display.overall(done, total, eta());
            } else {
              display.taskEnd(w, message.key, `stopped after epoch ${o.history.length}; rerun the command to continue it`);
            }
            next(child);
            break;
          }
          case 'task-error':
            failed = true;
            plan.results.set(message.key, 'failed');
            display.taskEnd(w, message.key, `FAILED: ${message.message}`);
            next(child);
            break;
          case 'fatal':
            failed = true;
            display.message(`worker ${w + 1} failed: ${message.message}`);
            break;
        }
      });
      child.on('exit', (code, signal) => {
        activeWorkers.delete(child);
        if (code !== 0 && code !== null && !options.signal?.aborted) {
          failed = true;
          display.message(`worker ${w + 1} exited with ${signal ?? code}${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
        }
        finishOne();
      });
      child.send({
        type: 'init',
        configFile: path.resolve(options.cwd, options.configFile),
        overrides: [...options.overrides],
        cwd: options.cwd,
        runDir: plan.runDir,
        configDigest: plan.configDigest,
        backend: plan.backendRequest,
        deterministic: config.engine.deterministic,
      } satisfies ToWorker);
    }
  });
}
