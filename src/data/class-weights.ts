import type { ClassWeightConfig } from '../schema/sections.js';
import { gaussian, randomStream } from './random.js';

/** No class is weighted below this: a negative weight would reward mistakes on it. */
export const MIN_CLASS_WEIGHT = 1e-3;

/**
 * Per-class loss weights from the class counts of a fold's training rows:
 * - `none`: all 1;
 * - `balanced`: n / (classes x n_c), as scikit-learn's "balanced";
 * - `majority_ratio`: n_max / n_c (the reference study), plus N(0, noise_sigma) noise per class,
 *   drawn from deriveSeed(memberSeed, 'class_weight') so each ensemble member differs, reproducibly.
 * A class without rows gets weight 1 (it never appears in the loss).
 */
export function classWeights(spec: ClassWeightConfig, counts: readonly number[], memberSeed: number): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (spec === 'none') return counts.map(() => 1);
  if (spec === 'balanced') return counts.map((c) => (c === 0 ? 1 : total / (counts.length * c)));
  const sigma = spec.majority_ratio.noise_sigma;
  const majority = Math.max(...counts);
  const random = randomStream(memberSeed, 'class_weight');
  return counts.map((c) => {
    const noise = sigma > 0 ? sigma * gaussian(random) : 0;
    return c === 0 ? 1 : Math.max(MIN_CLASS_WEIGHT, majority / c + noise);
  });
}
