import path from 'node:path';
import { existsSync, readdirSync } from 'node:fs';
import { readEnsembleSummary, readJson, type EpochMetrics, type TaskStatus } from '../store/run-folder.js';
import type { SweepSpec } from './spec.js';

/**
 * A finished trial's objective, read from its run folder.
 * - validation: the mean over the validation (fold) tasks of the metric their final weights score on
 *   their validation rows: accuracy as the task measured it after training, loss at the task's best
 *   epoch (its last when nothing restored another).
 * - oof: the ensemble's out-of-fold accuracy, macro-F1 or log-loss (ensemble/summary.json).
 * NaN when the run has no such number (a diverged loss, say): the trial then counts as failed.
 */
export function readObjective(runDir: string, objective: SweepSpec['objective']): number {
  if (objective.split === 'oof') {
    const oof = readEnsembleSummary(runDir)?.ensemble.oof;
    if (!oof) return Number.NaN;
    return objective.metric === 'accuracy' ? oof.accuracy : objective.metric === 'macro_f1' ? oof.macroF1 : oof.logLoss;
  }
  const values: number[] = [];
  const tasks = path.join(runDir, 'tasks');
  if (!existsSync(tasks)) return Number.NaN;
  for (const member of readdirSync(tasks).sort()) {
    for (const fold of readdirSync(path.join(tasks, member)).sort()) {
      if (!fold.startsWith('fold-')) continue;
      const dir = path.join(tasks, member, fold);
      const status = readJson<TaskStatus>(path.join(dir, 'status.json'));
      if (objective.metric === 'accuracy') {
        values.push(status?.summary?.val_accuracy ?? Number.NaN);
      } else {
        const history = readJson<EpochMetrics[]>(path.join(dir, 'metrics.json')) ?? [];
        const epoch = status?.bestEpoch ?? history.length;
        values.push(history[epoch - 1]?.val_loss ?? Number.NaN);
      }
    }
  }
  if (values.length === 0) return Number.NaN;
  return values.reduce((a, b) => a + b, 0) / values.length;
}
