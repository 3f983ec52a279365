import { createHash } from 'node:crypto';
import type { FoldsConfig } from '../config/types.js';
import { DataError } from '../core/data-error.js';
import { randomStream, shuffleInPlace } from './random.js';

export type FoldStrategy = FoldsConfig['strategy'];

export interface FoldAssignment {
  k: number;
  strategy: FoldStrategy;
  /** For each train row (by position in the train rows), the fold it validates in. */
  fold: Uint8Array;
  /** SHA-256 of k, the strategy and the assignment: the same seed and data give the same digest anywhere. */
  digest: string;
}

/**
 * Assigns each training row to one validation fold:
 * - `stratified` (default): each class's rows are shuffled and dealt round-robin over the folds,
 *   starting where the previous class stopped, so every fold holds each class to within one row
 *   of its exact share and fold sizes differ by at most one;
 * - `random`: all rows shuffled, then cut into k runs of (almost) equal length;
 * - `contiguous`: fold i validates rows [floor(i n / k), floor((i + 1) n / k)) in file order (the
 *   reference study's split).
 * The shuffles draw from deriveSeed(seed, 'data', 'folds').
 */
export function assignFolds(labels: ArrayLike<number>, classes: number, k: number, strategy: FoldStrategy, seed: number): FoldAssignment {
  const n = labels.length;
  if (k > n) throw new DataError(`${k} folds need at least ${k} training rows, there are ${n}`);
  const fold = new Uint8Array(n);
  const random = randomStream(seed, 'data', 'folds');
  if (strategy === 'contiguous') {
    for (let p = 0; p < n; p++) fold[p] = Math.floor((p * k) / n);
  } else if (strategy === 'random') {
    const order = shuffleInPlace(Int32Array.from({ length: n }, (_, i) => i), random);
    for (let j = 0; j < n; j++) fold[order[j]!] = Math.floor((j * k) / n);
  } else {
    const byClass: number[][] = Array.from({ length: classes }, () => []);
    for (let p = 0; p < n; p++) byClass[labels[p]!]!.push(p);
    let offset = 0;
    for (const positions of byClass) {
      const shuffled = shuffleInPlace(Int32Array.from(positions), random);
      for (let j = 0; j < shuffled.length; j++) fold[shuffled[j]!] = (offset + j) % k;
      offset = (offset + shuffled.length) % k;
    }
  }
  const digest = createHash('sha256').update(JSON.stringify({ k, strategy, n })).update(fold).digest('hex');
  return { k, strategy, fold, digest };
}

/** The dataset rows a fold trains and validates on. */
export function foldRows(trainRows: Int32Array, assignment: FoldAssignment, index: number): { train: Int32Array; validation: Int32Array } {
  if (index < 0 || index >= assignment.k) throw new RangeError(`fold ${index} of ${assignment.k}`);
  return {
    train: trainRows.filter((_, p) => assignment.fold[p] !== index),
    validation: trainRows.filter((_, p) => assignment.fold[p] === index),
  };
}
