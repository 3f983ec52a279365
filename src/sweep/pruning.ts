import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import path from 'node:path';
import { lowerIsBetter } from '../registry/monitor.js';
import { readJson, type EpochMetrics } from '../store/run-folder.js';
import type { SweepSpec } from './spec.js';

/**
 * Pruning, decided before a trial starts: from the per-epoch validation curves of the trials the
 * sampler also saw, the sweep computes a threshold for some epochs and hands them to the trial's
 * tasks as a `prune_below` callback (registry/callbacks.ts). A task worse than the threshold at
 * such an epoch stops there. Because the thresholds depend on earlier trials only, a resumed trial
 * prunes exactly as an uninterrupted one would.
 *
 * - asha: rungs at min_epochs * reduction_factor^j epochs; at a rung, a task must be among the best
 *   1/reduction_factor of the earlier trials' tasks that reached it.
 * - median: at every epoch from min_epochs, a task must be no worse than the median of the earlier
 *   trials' tasks at that epoch.
 * Either waits for `startup_trials` earlier trials before it prunes at all.
 */
export interface Threshold {
  epoch: number;
  value: number;
}

/** The epoch metric pruning watches for an objective: validation accuracy or loss. */
export function pruningMonitor(spec: SweepSpec): 'val_accuracy' | 'val_loss' {
  return spec.objective.metric === 'accuracy' || spec.objective.metric === 'macro_f1' ? 'val_accuracy' : 'val_loss';
}

/** Each validation task's curve of `monitor` (one number per epoch trained) in a run folder. */
export function taskCurves(runDir: string, monitor: string): number[][] {
  const tasks = path.join(runDir, 'tasks');
  if (!existsSync(tasks)) return [];
  const curves: number[][] = [];
  for (const member of readdirSync(tasks).sort()) {
    const memberDir = path.join(tasks, member);
    for (const fold of readdirSync(memberDir).sort()) {
      if (!fold.startsWith('fold-')) continue;
      const history = readJson<EpochMetrics[]>(path.join(memberDir, fold, 'metrics.json')) ?? [];
      const curve = history.map((m) => (m as unknown as Record<string, number | undefined>)[monitor]);
      if (curve.length > 0 && curve.every((v) => typeof v === 'number' && Number.isFinite(v))) curves.push(curve as number[]);
    }
  }
  return curves;
}

/** Thresholds for the next trial from earlier trials' task curves (one list of curves per trial). */
export function pruneThresholds(pruning: SweepSpec['pruning'], monitor: string, earlier: readonly number[][][], epochs: number): Threshold[] {
  if (pruning.method === 'none' || earlier.length < pruning.startupTrials) return [];
  const epochsToCheck: number[] = [];
  if (pruning.method === 'asha') {
    for (let e = pruning.minEpochs; e < epochs; e *= pruning.reductionFactor) epochsToCheck.push(e);
  } else {
    for (let e = pruning.minEpochs; e < epochs; e++) epochsToCheck.push(e);
  }
  const better = lowerIsBetter(monitor) ? (a: number, b: number) => a - b : (a: number, b: number) => b - a;
  const out: Threshold[] = [];
  for (const epoch of epochsToCheck) {
    const values = earlier.flatMap((curves) => curves.flatMap((c) => (c.length >= epoch ? [c[epoch - 1]!] : []))).sort(better);
    if (values.length === 0) continue;
    const keep = pruning.method === 'asha' ? Math.max(1, Math.ceil(values.length / pruning.reductionFactor)) : Math.ceil(values.length / 2);
    out.push({ epoch, value: values[keep - 1]! });
  }
  return out;
}

/** Whether a finished trial was pruned: the first epoch one of its tasks stopped at for being worse than that epoch's threshold. */
export function findPruning(runDir: string, monitor: string, thresholds: readonly Threshold[], method: string): { epoch: number; reason: string } | undefined {
  let found: { epoch: number; reason: string } | undefined;
  const epochs = trainedEpochs(runDir);
  for (const curve of taskCurves(runDir, monitor)) {
    const epoch = curve.length;
    // A task that ran all its epochs was not stopped, whatever its last value.
    if (epochs !== undefined && epoch >= epochs) continue;
    const threshold = thresholds.find((t) => t.epoch === epoch);
    const value = curve[epoch - 1]!;
    if (!threshold) continue;
    const worse = lowerIsBetter(monitor) ? value > threshold.value : value < threshold.value;
    if (worse && (!found || epoch < found.epoch)) {
      found = { epoch, reason: `${monitor} ${value.toFixed(4)} after epoch ${epoch} was ${lowerIsBetter(monitor) ? 'above' : 'below'} the ${method} threshold ${threshold.value.toFixed(4)} of the earlier trials` };
    }
  }
  return found;
}

/** The epochs a run was configured to train (its resolved config), all stages together. */
function trainedEpochs(runDir: string): number | undefined {
  const file = path.join(runDir, 'config.resolved.yaml');
  if (!existsSync(file)) return undefined;
  const epochs = (parse(readFileSync(file, 'utf8')) as { training?: { epochs?: unknown } } | null)?.training?.epochs;
  return typeof epochs === 'number' ? epochs : undefined;
}
