import type { LoadedSweep } from './load.js';
import { gridSize } from './space.js';
import type { SweepSpec } from './spec.js';
import { bestTrial, type SweepFile, type TrialRecord } from './state.js';

/** How many trials the budget allows (a grid: its size, at most `trials`); Infinity when only minutes bound it. */
export function trialLimit(spec: SweepSpec): number {
  if (spec.search.method === 'grid') return Math.min(gridSize(spec.space) ?? 0, spec.budget.trials ?? Infinity);
  return spec.budget.trials ?? Infinity;
}

/** The samplers minimise: a maximised objective is negated. */
export function objectiveLoss(spec: SweepSpec, objective: number): number {
  return spec.objective.direction === 'maximize' ? -objective : objective;
}

/** sweep.json: the trials as the command's --json prints them, and the best. */
export function sweepSummary(sweep: LoadedSweep, trials: readonly TrialRecord[], runDir: (id: string) => string): SweepFile {
  const best = bestTrial(trials, sweep.spec.objective.direction);
  return {
    sweep: sweep.name,
    digest: sweep.digest,
    configFile: sweep.file,
    objective: sweep.spec.objective,
    updated: new Date().toISOString(),
    trials: trials.map((t) => ({ ...t, runDir: runDir(t.id) })),
    best: best ? { id: best.id, objective: best.objective, params: best.params } : null,
  };
}
