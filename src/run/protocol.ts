import type { BatchProgress, EpochMetrics } from '../engine/trainer.js';
import type { TaskOutcome } from './execute-task.js';
import type { Task } from '../store/tasks.js';

/** Messages between the runner (parent) and its worker processes, over Node's IPC channel. */
export type ToWorker =
  | {
      type: 'init';
      configFile: string;
      overrides: string[];
      cwd: string;
      runDir: string;
      configDigest: string;
      backend: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
      deterministic: boolean;
    }
  | { type: 'task'; task: Task; fingerprint: string }
  | { type: 'stop' };

export type FromWorker =
  | { type: 'ready'; backend: string; reason: string }
  | { type: 'task-start'; key: string }
  | { type: 'batch'; key: string; progress: BatchProgress }
  | { type: 'epoch'; key: string; metrics: EpochMetrics }
  | { type: 'notice'; key: string; message: string }
  | { type: 'task-end'; key: string; outcome: TaskOutcome }
  | { type: 'task-error'; key: string; message: string }
  | { type: 'fatal'; message: string };
