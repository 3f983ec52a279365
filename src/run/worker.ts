import { startEngine } from '../backend/backend.js';
import { readTaskStatus, taskFingerprint, writeTaskStatus } from '../store/run-folder.js';
import type { Task } from '../store/tasks.js';
import type { TaskNumerics } from '../store/task-numerics.js';
import { capabilities } from '../backend/capabilities.js';
import { appliedKernelChoice } from '../backend/kernel-choice.js';
import type { Tf } from '../core/tf.js';
import { DiskFullError } from '../core/durable-file.js';
import { executeTask, taskErrorText, type RunContext } from './execute-task.js';
import { probeModel } from './probe.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { openWorkerContext, RunInputChanged } from './worker-setup.js';

/**
 * A worker process: starts its own backend, takes the config, plugins and data the parent
 * describes in its first message (checking each against the parent's digest: worker-setup.ts),
 * then trains the tasks the parent sends, one at a time, reporting progress over IPC. A worker
 * whose inputs are not the parent's trains nothing: it fails every task it is given with the
 * reason. On `stop`, SIGINT or SIGTERM it stops after the current batch; the task's last epoch
 * checkpoint stays, so rerunning the command resumes it.
 */
const send = (message: FromWorker) => process.send?.(message);
const stop = new AbortController();
let init: WorkerInit | undefined;
let context: RunContext | undefined;
/** Why this worker refuses to train (its inputs changed since the parent read them). */
let refusal: string | undefined;
let busy = false;
/** The threads and kernels this worker's backend runs with (recorded by each task it starts). */
let numerics: Omit<TaskNumerics, 'fingerprint'> | undefined;

/** A task refused without training: failed with the reason; its checkpoint (if any) stays for a rerun. */
function refuse(task: Task, fingerprint: string, reason: string): void {
  const runDir = init!.runDir;
  let previous;
  try {
    previous = readTaskStatus(runDir, task.key);
  } catch {
    // A damaged status is replaced by this one.
  }
  const now = new Date().toISOString();
  writeTaskStatus(runDir, { key: task.key, state: 'failed', fingerprint, started: now, updated: now, epochs: previous?.fingerprint === fingerprint ? previous.epochs : 0, error: reason });
  send({ type: 'task-error', key: task.key, message: reason });
}

/** What this worker runs with: the pool sets TF_NUM_INTRAOP_THREADS, the kernels come from FER_KERNELS or the CPU. */
function workerNumerics(tf: Tf): Omit<TaskNumerics, 'fingerprint'> {
  const caps = capabilities(tf);
  const choice = appliedKernelChoice();
  const threads = caps.native ? Number(process.env.TF_NUM_INTRAOP_THREADS ?? caps.devices.cpu.cores) : 1;
  return {
    backend: caps.backend,
    threads,
    kernels: caps.kernels ? { fusedConvolution: choice.fusedConvolution, largeFilterGradients: choice.largeFilterGradients } : null,
    effective: caps.kernels ? `${caps.kernels.fusedConvolution}/${caps.kernels.largeFilterGradients}` : null,
  };
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stop.abort());
process.on('disconnect', () => {
  stop.abort();
  if (!busy) process.exit(0);
});

/** The fingerprint the runner gives a task must be the one of what this worker would train. */
function wrongFingerprint(context: RunContext, task: Task, fingerprint: string): string | undefined {
  const own = taskFingerprint(task.key, context.configDigest, context.dataDigest);
  return own === fingerprint ? undefined : `${task.key}: the runner's fingerprint ${fingerprint} is not ${own}, the one of what this worker would train: not trained. Rerun the command`;
}

process.on('message', (raw) => {
  const message = raw as ToWorker;
  void (async () => {
    try {
      if (message.type === 'init') {
        init = message;
        const engine = await startEngine(message.backend, { deterministic: message.deterministic });
        numerics = workerNumerics(engine.tf);
        try {
          context = await openWorkerContext(engine.tf, message);
        } catch (error) {
          if (!(error instanceof RunInputChanged)) throw error;
          refusal = error.message;
        }
        send({ type: 'ready', backend: engine.backend, reason: engine.reason });
      } else if (message.type === 'task') {
        if (!init) throw new Error('task before init');
        send({ type: 'task-start', key: message.task.key });
        const reason = refusal ?? wrongFingerprint(context!, message.task, message.fingerprint);
        if (reason !== undefined) {
          refuse(message.task, message.fingerprint, reason);
          return;
        }
        busy = true;
        let lastBatch = 0;
        try {
          const outcome = await executeTask(context!, message.task, message.fingerprint, stop.signal, {
            onEpoch: (metrics) => send({ type: 'epoch', key: message.task.key, metrics }),
            onNotice: (text) => send({ type: 'notice', key: message.task.key, message: text }),
            onBatch: (progress) => {
              const now = Date.now();
              if (now - lastBatch < 250 && progress.batch !== progress.batches) return;
              lastBatch = now;
              send({ type: 'batch', key: message.task.key, progress });
            },
          }, numerics);
          send({ type: 'task-end', key: message.task.key, outcome });
        } catch (error) {
          const diskFull = error instanceof DiskFullError ? { file: error.file, needed: error.needed, free: error.free ?? null } : undefined;
          send({ type: 'task-error', key: message.task.key, message: taskErrorText(error, init.cwd), ...(diskFull ? { diskFull } : {}) });
        } finally {
          busy = false;
          if (stop.signal.aborted && process.connected) process.disconnect();
        }
      } else if (message.type === 'probe') {
        if (refusal !== undefined || !context) throw new Error(refusal ?? 'probe before init');
        busy = true;
        try {
          send({ type: 'probe-result', model: message.model, rate: await probeModel(context, message.model) });
        } finally {
          busy = false;
        }
      } else if (message.type === 'stop') {
        stop.abort();
        if (!busy && process.connected) process.disconnect();
      }
    } catch (error) {
      send({ type: 'fatal', message: (error as Error).message });
      if (process.connected) process.disconnect();
    }
  })();
});
