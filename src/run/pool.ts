import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Devices } from '../backend/devices.js';
import type { BatchProgress, EpochMetrics } from '../engine/trainer.js';
import type { Task } from '../store/tasks.js';
import type { TaskOutcome } from './execute-task.js';
import type { FromWorker, ToWorker } from './protocol.js';

/**
 * The worker pool: forks worker processes, hands them tasks as they free up, and turns what they
 * say over IPC into events for the runner (which shows them and tracks them). It knows nothing of
 * configs, displays or tracking; a worker's death inside a task is reported as that task's end.
 */
export interface PoolEvents {
  /** The first worker said which backend it runs. */
  ready(backend: string, reason: string): void;
  taskStart(worker: number, key: string): void;
  batch(worker: number, key: string, progress: BatchProgress): void;
  epoch(worker: number, key: string, metrics: EpochMetrics): void;
  notice(worker: number, key: string, message: string): void;
  /** A task ended by finishing or by a stop (outcome.state says which). */
  taskEnd(worker: number, key: string, outcome: TaskOutcome, seconds: number): void;
  /** A task failed, or the worker running it died (`crashed`: then the run should fail); `diskFull` when it found no space. */
  taskFailed(worker: number, key: string, error: string | undefined, crashed: boolean, diskFull?: Extract<FromWorker, { type: 'task-error' }>['diskFull']): void;
  /** Something about a worker rather than a task (it could not start, it exited badly). */
  message(text: string): void;
}

export interface PoolPlan {
  tasks: readonly Task[];
  fingerprint: (task: Task) => string;
  workers: number;
  /** TensorFlow's intra-op threads in each worker. */
  threads: number;
  /** What worker `w`'s environment gains (the GPU it is pinned to: WorkerPlacement.env). */
  workerEnv?: (worker: number) => Record<string, string>;
  /** The first message every worker gets. */
  init: Extract<ToWorker, { type: 'init' }>;
  cwd: string;
  signal?: AbortSignal;
  events: PoolEvents;
}

/** Worker processes of runs in progress, so a forced quit (a second Ctrl-C) can end them too. */
const activeWorkers = new Set<ChildProcess>();

/** Ends every worker at once: for a forced quit. Their last epoch checkpoints stay; a rerun resumes. */
export function killWorkers(): void {
  for (const child of activeWorkers) child.kill('SIGKILL');
}

const workerScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.js');

/** What the placement policy needs to know: the backend the workers will start, and the machine's devices. */
export interface PlacementTarget {
  backend: string;
  /** The native package a `tensorflow` backend loads: GPUs count only for @tensorflow/tfjs-node-gpu. */
  package?: string | undefined;
  devices: Devices;
}

export interface WorkerPlacement {
  workers: number;
  /** TensorFlow's intra-op threads in each worker (on GPUs: for the ops that stay on the CPU). */
  threads: number;
  /** The GPU each worker is pinned to (its CUDA_VISIBLE_DEVICES id); empty on the CPU. */
  gpus: string[];
  /** What each worker's environment gains: its GPU. */
  env: (worker: number) => Record<string, string>;
  /** For the run's log: where the workers are (empty on the CPU, where the count and threads say it all). */
  summary: string;
}

/**
 * Where a run's workers go. On the CPU, one worker per core (never more than there are tasks), the
 * cores shared out as TensorFlow threads, one each when every core has a worker. With GPUs (the GPU
 * package and at least one GPU visible), one worker per GPU, each pinned to its own with
 * CUDA_VISIBLE_DEVICES (TensorFlow in a process takes the memory of every GPU it sees), the cores
 * shared out among them for the work that stays on the CPU; more workers than GPUs (--workers) take
 * the GPUs in turn and grow their memory as needed instead of taking it all. `requested` is what the
 * user set: --workers and engine.threads.
 * The GPU placement is tested with device lists only: no machine fer is developed on has a GPU.
 */
export function placeWorkers(target: PlacementTarget, tasks: number, requested: { workers?: number | undefined; threads?: number | null | undefined } = {}): WorkerPlacement {
  const cores = Math.max(1, target.devices.cpu.cores);
  const gpus = target.backend === 'tensorflow' && target.package === '@tensorflow/tfjs-node-gpu' ? target.devices.gpus : [];
  const perDevice = gpus.length > 0 ? gpus.length : cores;
  const workers = Math.max(1, Math.min(requested.workers ?? perDevice, tasks));
  const threads = requested.threads ?? (target.backend === 'tensorflow' ? Math.max(1, Math.floor(cores / workers)) : 1);
  if (gpus.length === 0) return { workers, threads, gpus: [], env: () => ({}), summary: '' };
  const pinned = Array.from({ length: workers }, (_, w) => gpus[w % gpus.length]!.id);
  const shared = workers > gpus.length;
  const order = target.devices.cudaDeviceOrder;
  return {
    workers,
    threads,
    gpus: pinned,
    env: (w) => ({
      CUDA_VISIBLE_DEVICES: pinned[w]!,
      ...(order ? { CUDA_DEVICE_ORDER: order } : {}),
      ...(shared ? { TF_FORCE_GPU_ALLOW_GROWTH: 'true' } : {}),
    }),
    summary: shared ? `, ${workers} workers on ${gpus.length} GPU${gpus.length === 1 ? '' : 's'} in turn (${pinned.join(', ')})` : `, one per GPU (${pinned.join(', ')})`,
  };
}

/** A worker process (worker.ts) with its threads and environment; killWorkers ends it with the others. */
export function spawnWorker(cwd: string, threads: number, env: Record<string, string>): ChildProcess {
  const child = fork(workerScript, [], {
    cwd,
    env: { ...process.env, TF_NUM_INTRAOP_THREADS: String(threads), TF_NUM_INTEROP_THREADS: '1', TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2', ...env },
    // Workers share the parent's process group: Ctrl-C reaches them too and each stops after
    // its current batch; a kill of the group ends everything at once (no orphan writes on).
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  activeWorkers.add(child);
  child.on('exit', () => activeWorkers.delete(child));
  return child;
}

/** Runs the tasks on `plan.workers` processes; resolves, once every worker has exited, with whether any failed. */
export function runPool(plan: PoolPlan): Promise<boolean> {
  const { events } = plan;
  const queue = [...plan.tasks];
  let failed = false;
  const started = new Map<string, number>();
  const children: ChildProcess[] = [];

  return new Promise<boolean>((resolve) => {
    let alive = 0;
    const finishOne = () => {
      alive--;
      if (alive === 0) resolve(failed);
    };
    const next = (child: ChildProcess) => {
      const task = plan.signal?.aborted ? undefined : queue.shift();
      if (!task) {
        if (child.connected) child.send({ type: 'stop' } satisfies ToWorker);
        return;
      }
      if (!child.connected) return;
      started.set(task.key, Date.now());
      child.send({ type: 'task', task, fingerprint: plan.fingerprint(task) } satisfies ToWorker);
    };
    plan.signal?.addEventListener('abort', () => {
      for (const child of children) if (child.connected) child.send({ type: 'stop' } satisfies ToWorker);
    });

    for (let w = 0; w < plan.workers; w++) {
      const child = spawnWorker(plan.cwd, plan.threads, plan.workerEnv?.(w) ?? {});
      children.push(child);
      alive++;
      // A worker that went away while a message was on its way: its exit is handled below.
      child.on('error', (error) => {
        // A stop racing a worker that already left: nothing was lost, nothing to say.
        const code = (error as NodeJS.ErrnoException).code;
        if (plan.signal?.aborted && (code === 'EPIPE' || code === 'ERR_IPC_CHANNEL_CLOSED')) return;
        events.message(`worker ${w + 1}: ${error.message}`);
      });
      let stderr = '';
      let current: string | undefined;
      const lastLines = () => (stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : '');
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
      });
      child.on('message', (raw) => {
        const message = raw as FromWorker;
        switch (message.type) {
          case 'ready':
            if (w === 0) events.ready(message.backend, message.reason);
            next(child);
            break;
          case 'task-start':
            current = message.key;
            events.taskStart(w, message.key);
            break;
          case 'batch':
            events.batch(w, message.key, message.progress);
            break;
          case 'epoch':
            events.epoch(w, message.key, message.metrics);
            break;
          case 'notice':
            events.notice(w, message.key, message.message);
            break;
          case 'task-end':
            current = undefined;
            events.taskEnd(w, message.key, message.outcome, (Date.now() - (started.get(message.key) ?? Date.now())) / 1000);
            next(child);
            break;
          case 'task-error':
            current = undefined;
            failed = true;
            events.taskFailed(w, message.key, message.message, false, message.diskFull);
            next(child);
            break;
          case 'fatal':
            failed = true;
            events.message(`worker ${w + 1} failed: ${message.message}`);
            break;
        }
      });
      child.on('exit', (code, signal) => {
        activeWorkers.delete(child);
        if (current) {
          // The worker died inside a task (a crash of the native library, a kill): its task ends too.
          const reason = plan.signal?.aborted ? undefined : `worker exited with ${signal ?? code}${lastLines()}`;
          events.taskFailed(w, current, reason, true);
          current = undefined;
        }
        if (code !== 0 && code !== null && !plan.signal?.aborted) {
          failed = true;
          events.message(`worker ${w + 1} exited with ${signal ?? code}${lastLines()}`);
        }
        finishOne();
      });
      child.send(plan.init);
    }
  });
}
