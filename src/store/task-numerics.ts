import path from 'node:path';
import { DamagedFileError, readVerifiedJson, writeDurable } from '../core/durable-file.js';
import { taskDir } from './run-folder.js';

/**
 * What decides a task's numbers besides its config, data and seed: how many threads TensorFlow
 * splits each op over (sums are added in another order with another count) and which of two
 * kernels computes a convolution or a large filter gradient (they differ in the last bits). A task
 * records them (numerics.json in its folder) when it first starts; a resume or a retry of it runs
 * with the recorded ones, not with what the machine or the worker count would give now, so it ends
 * with the weights of a run that never stopped.
 */
export interface TaskNumerics {
  /** The task's fingerprint when recorded: numerics of another config's task are not reused. */
  fingerprint: string;
  backend: string;
  /** TensorFlow's intra-op threads (TF_NUM_INTRAOP_THREADS); 1 off the native backend. */
  threads: number;
  /** The kernel choice (FER_KERNELS / FER_FILTER_GRADIENTS values) on the native CPU backend; null elsewhere. */
  kernels: { fusedConvolution: 'onednn' | 'eigen'; largeFilterGradients: 'onednn' | 'eigen' } | null;
  /** What the kernels came to on that backend (oneDNN off, no fer addon...), to tell when a resume cannot match. */
  effective: string | null;
}

export function numericsFile(runDir: string, key: string): string {
  return path.join(taskDir(runDir, key), 'numerics.json');
}

/** The numerics a task recorded under this fingerprint; undefined when none (or damaged: then `onDamaged` hears why). */
export function readTaskNumerics(runDir: string, key: string, fingerprint: string, onDamaged?: (message: string) => void): TaskNumerics | undefined {
  try {
    const recorded = readVerifiedJson<TaskNumerics>(numericsFile(runDir, key));
    return recorded?.fingerprint === fingerprint ? recorded : undefined;
  } catch (error) {
    if (!(error instanceof DamagedFileError)) throw error;
    onDamaged?.(error.message);
    return undefined;
  }
}

export function writeTaskNumerics(runDir: string, key: string, numerics: TaskNumerics): void {
  writeDurable(numericsFile(runDir, key), `${JSON.stringify(numerics, null, 2)}\n`);
}

/** The environment a worker needs to run with these numerics (pool.ts sets the threads from `threads`). */
export function numericsEnvironment(numerics: Pick<TaskNumerics, 'kernels'>): Record<string, string> {
  return numerics.kernels ? { FER_KERNELS: numerics.kernels.fusedConvolution, FER_FILTER_GRADIENTS: numerics.kernels.largeFilterGradients } : {};
}

/** Groups tasks by the numerics they must run with: one group per distinct setting, `undefined` for tasks with none recorded. */
export function numericsKey(numerics: Pick<TaskNumerics, 'threads' | 'kernels'>): string {
  return `${numerics.threads}/${numerics.kernels ? `${numerics.kernels.fusedConvolution}+${numerics.kernels.largeFilterGradients}` : '-'}`;
}

/** Where two numerics differ, in words ("threads 1 then, 2 now"); empty when they agree. */
export function numericsDifference(recorded: TaskNumerics, now: TaskNumerics): string {
  const parts: string[] = [];
  if (recorded.backend !== now.backend) parts.push(`backend ${recorded.backend} then, ${now.backend} now`);
  if (recorded.threads !== now.threads) parts.push(`threads ${recorded.threads} then, ${now.threads} now`);
  if (numericsKey(recorded) !== numericsKey(now)) parts.push(`kernels ${numericsKey(recorded).split('/')[1]} then, ${numericsKey(now).split('/')[1]} now`);
  if (recorded.effective !== now.effective) parts.push(`effective kernels ${recorded.effective ?? 'none'} then, ${now.effective ?? 'none'} now`);
  return parts.join(', ');
}
