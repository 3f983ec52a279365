import type { BackendRequest } from '../backend/backend.js';
import type { PluginFile } from '../config/read.js';
import type { ResolvedConfig } from '../config/resolved.js';
import type { BatchProgress, EpochMetrics } from '../engine/trainer.js';
import type { TaskOutcome } from './execute-task.js';
import type { ModelRate } from './probe.js';
import type { Task } from '../store/tasks.js';

/** Messages between the runner (parent) and its worker processes, over Node's IPC channel (JSON). */
export type ToWorker = WorkerInit | { type: 'task'; task: Task; fingerprint: string } | { type: 'probe'; model: string } | { type: 'stop' };

/**
 * The first message: everything a worker trains from, as the parent read it (worker-setup.ts).
 * The worker reads no config file; it checks each digest before it trains anything.
 */
export interface WorkerInit {
  type: 'init';
  /** The resolved config the parent validated, with its sources and positions (for errors). */
  config: ResolvedConfig;
  /** configDigest(config, plugin digests): part of every task's fingerprint. */
  configDigest: string;
  /** The digest of the dataset the parent loaded. */
  dataDigest: string;
  /** The plugins the parent loaded: as written, the file imported and its SHA-256. */
  plugins: Required<PluginFile>[];
  cwd: string;
  runDir: string;
  backend: BackendRequest;
  deterministic: boolean;
  /** A smoke run: the worker trains on the same slice of the data as the parent (smoke.ts). */
  smoke?: boolean;
}

export type FromWorker =
  | { type: 'ready'; backend: string; reason: string }
  | { type: 'task-start'; key: string }
  | { type: 'batch'; key: string; progress: BatchProgress }
  | { type: 'epoch'; key: string; metrics: EpochMetrics }
  | { type: 'notice'; key: string; message: string }
  | { type: 'task-end'; key: string; outcome: TaskOutcome }
  | { type: 'task-error'; key: string; message: string; diskFull?: { file: string; needed: number; free: number | null } }
  | { type: 'probe-result'; model: string; rate: ModelRate }
  | { type: 'fatal'; message: string };
