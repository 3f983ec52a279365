import path from 'node:path';
import type { RunEstimate } from '../run/estimate.js';
import { estimatePrepared, prepareRun, type RunOptions } from '../run/runner.js';
import { WITHOUT_SWEEP, type LoadedSweep } from './load.js';

/**
 * How long one trial of the base experiment takes, before any trial has run: the same estimate
 * `fer run --dry-run` gives for the base experiment (each model's rate timed in workers placed as
 * the trial's will be, or taken from the cache of earlier timings; its tasks laid out on them), so a
 * sweep and a run never disagree about the same config. Searched values (widths, epochs) move it:
 * it is the base experiment's time.
 */
export async function estimateBaseTrial(
  sweep: LoadedSweep,
  options: Pick<RunOptions, 'overrides' | 'cwd' | 'runsDir' | 'backend' | 'workers' | 'signal'>,
  say: (text: string) => void,
): Promise<RunEstimate> {
  // A folder no trial uses: nothing in it is finished, so every task of the trial is counted; nothing is written there.
  const prepared = await prepareRun({ configFile: sweep.file, overrides: [...options.overrides, WITHOUT_SWEEP], cwd: options.cwd, runsDir: options.runsDir, runDir: path.join(options.runsDir, '.estimate-only') });
  return estimatePrepared({ cwd: options.cwd, ...(options.backend ? { backend: options.backend } : {}), ...(options.workers !== undefined ? { workers: options.workers } : {}), ...(options.signal ? { signal: options.signal } : {}) }, prepared, say);
}
