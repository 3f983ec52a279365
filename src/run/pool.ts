import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
  /** A task failed, or the worker running it died (`crashed`: then the run should fail). */
  taskFailed(worker: number, key: string, error: string | undefined, crashed: boolean): void;
  /** Something about a worker rather than a task (it could not start, it exited badly). */
  message(text: string): void;
}

export interface PoolPlan {
  tasks: readonly Task[];
  fingerprint: (task: Task) => string;
  workers: number;
  /** TensorFlow's intra-op threads in each worker. */
  threads: number;
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

/** Workers and the threads each gives TensorFlow: the cores shared out, at least one each. */
export function defaultWorkers(backend: string, cores: number, tasks: number): { workers: number; threads: number } {
  const workers = Math.max(1, Math.min(tasks, cores));
  return { workers, threads: backend === 'tensorflow' ? Math.max(1, Math.floor(cores / workers)) : 1 };
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
      const child = fork(workerScript, [], {
        cwd: plan.cwd,
        env: { ...process.env, TF_NUM_INTRAOP_THREADS: String(plan.threads), TF_NUM_INTEROP_THREADS: '1', TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2' },
        // Workers share the parent's process group: Ctrl-C reaches them too and each stops after
        // its current batch; a kill of the group ends everything at once (no orphan writes on).
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      children.push(child);
      activeWorkers.add(child);
      alive++;
      // A worker that went away while a message was on its way: its exit is handled below.
      child.on('error', (error) => events.message(`worker ${w + 1}: ${error.message}`));
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
            events.taskFailed(w, message.key, message.message, false);
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
