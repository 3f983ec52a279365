import type { CombineMethod } from './combine.js';
import type { Metrics } from './metrics.js';

/** What an ensemble's evaluation found (ensemble/summary.json): each member, each model type and the whole. */
export interface MemberResult {
  name: string;
  model: string;
  oof?: Metrics;
  test?: Metrics;
}

export interface EnsembleSummary {
  method: CombineMethod;
  weights: Record<string, number>;
  classes: string[];
  members: MemberResult[];
  models: Record<string, { oof?: Metrics; test?: Metrics }>;
  ensemble: { oof?: Metrics; test?: Metrics };
  /** With test-time views (evaluation.tta): which, and the ensemble's figures without them (the figures above are with them). */
  views?: { label: string; withoutViews: { oof?: Metrics; test?: Metrics } };
}

