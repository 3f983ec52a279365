import { argmax } from './metrics.js';

/**
 * Combining members' class probabilities (each rows x classes, the same rows in the same order):
 * - mean: the average;
 * - weighted_mean: the weighted average (weights from the config, or fitted on out-of-fold
 *   predictions by fitWeights, never on test rows);
 * - geometric_mean: exp of the average log-probability, renormalised per row;
 * - vote: each member votes for its top class; the result is the vote shares, with ties broken
 *   by the mean probability (so argmax of the result is the majority, then the most confident).
 */
export type CombineMethod = 'mean' | 'weighted_mean' | 'geometric_mean' | 'vote';

export function combine(members: readonly Float32Array[], classes: number, method: CombineMethod, weights?: readonly number[]): Float32Array {
  if (members.length === 0) throw new Error('an ensemble needs at least one member');
  const size = members[0]!.length;
  const rows = size / classes;
  const out = new Float32Array(size);
  const w = method === 'weighted_mean' ? normalise(weights ?? members.map(() => 1)) : members.map(() => 1 / members.length);
  if (method === 'mean' || method === 'weighted_mean') {
    members.forEach((m, j) => {
      for (let i = 0; i < size; i++) out[i]! += w[j]! * m[i]!;
    });
    return out;
  }
  if (method === 'geometric_mean') {
    const logs = new Float64Array(size);
    for (const m of members) for (let i = 0; i < size; i++) logs[i]! += Math.log(Math.max(1e-12, m[i]!)) / members.length;
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += Math.exp(logs[r * classes + c]!);
      for (let c = 0; c < classes; c++) out[r * classes + c] = Math.exp(logs[r * classes + c]!) / sum;
    }
    return out;
  }
  const mean = combine(members, classes, 'mean');
  for (const m of members) for (let r = 0; r < rows; r++) out[r * classes + argmax(m, r, classes)]! += 1 / members.length;
  // Ties between vote shares: the mean probability decides, by a margin smaller than one vote.
  for (let i = 0; i < size; i++) out[i]! += mean[i]! * (0.5 / members.length / classes);
  return out;
}

function normalise(weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (!(sum > 0)) throw new Error('ensemble weights must not all be zero');
  return weights.map((x) => x / sum);
}

/**
 * Member weights that minimise the log-loss of the weighted mean on out-of-fold predictions, by
 * exponentiated-gradient descent on the simplex (weights stay positive and sum to 1): a
 * deterministic few hundred steps, enough for 16 members.
 */
export function fitWeights(members: readonly Float32Array[], labels: ArrayLike<number>, classes: number, iterations = 300, rate = 0.5): number[] {
  const k = members.length;
  let w = new Array<number>(k).fill(1 / k);
  const rows = labels.length;
  for (let step = 0; step < iterations; step++) {
    const grad = new Array<number>(k).fill(0);
    for (let r = 0; r < rows; r++) {
      const index = r * classes + labels[r]!;
      let p = 0;
      for (let j = 0; j < k; j++) p += w[j]! * members[j]![index]!;
      p = Math.max(p, 1e-12);
      for (let j = 0; j < k; j++) grad[j]! -= members[j]![index]! / p / rows;
    }
    const scaled = w.map((x, j) => x * Math.exp(-rate * grad[j]!));
    w = normalise(scaled);
  }
  return w;
}
