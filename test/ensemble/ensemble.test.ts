import { describe, expect, it } from 'vitest';
import { combine, fitWeights } from '../../src/ensemble/combine.js';
import { computeMetrics } from '../../src/ensemble/metrics.js';

// Three members' probabilities for four rows of three classes; the labels are [0, 1, 2, 2].
const a = Float32Array.from([0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.3, 0.3, 0.4, 0.5, 0.4, 0.1]);
const b = Float32Array.from([0.4, 0.5, 0.1, 0.2, 0.7, 0.1, 0.1, 0.1, 0.8, 0.2, 0.2, 0.6]);
const c = Float32Array.from([0.6, 0.3, 0.1, 0.6, 0.3, 0.1, 0.2, 0.6, 0.2, 0.3, 0.3, 0.4]);
const labels = [0, 1, 2, 2];

describe('ensemble combination (checked by hand)', () => {
  it('averages, weights, takes geometric means and votes', () => {
    expect(Array.from(combine([a, b, c], 3, 'mean')).map((v) => +v.toFixed(4))).toEqual(
      [0.5667, 0.3333, 0.1, 0.3, 0.6, 0.1, 0.2, 0.3333, 0.4667, 0.3333, 0.3, 0.3667],
    );
    const weighted = combine([a, b], 3, 'weighted_mean', [3, 1]);
    expect(+weighted[0]!.toFixed(4)).toBe(+(0.75 * 0.7 + 0.25 * 0.4).toFixed(4));
    const geometric = combine([a, b], 3, 'geometric_mean');
    const g0 = Math.sqrt(0.7 * 0.4);
    const g1 = Math.sqrt(0.2 * 0.5);
    const g2 = Math.sqrt(0.1 * 0.1);
    expect(geometric[0]).toBeCloseTo(g0 / (g0 + g1 + g2), 6);
    // Row 1: votes 1 (a), 1 (b), 0 (c): class 1 wins. Row 3: votes 0, 2, 2: class 2 wins.
    const vote = combine([a, b, c], 3, 'vote');
    const winner = (row: number) => [0, 1, 2].reduce((best, k) => (vote[row * 3 + k]! > vote[row * 3 + best]! ? k : best), 0);
    expect([0, 1, 2, 3].map(winner)).toEqual([0, 1, 2, 2]);
  });

  it('computes accuracy, macro-F1 and the confusion matrix', () => {
    const metrics = computeMetrics(combine([a, b, c], 3, 'mean'), labels, ['x', 'y', 'z']);
    // mean argmax: [0, 1, 2, 2] -> all four right.
    expect(metrics.accuracy).toBe(1);
    expect(metrics.confusion).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 2]]);
    const single = computeMetrics(c, labels, ['x', 'y', 'z']);
    // c's argmax: [0, 0, 1, 2] -> rows 1 and 2 wrong.
    expect(single.accuracy).toBe(0.5);
    expect(single.perClass.x).toMatchObject({ precision: 0.5, recall: 1, support: 1 });
    expect(single.perClass.y).toMatchObject({ precision: 0, recall: 0, support: 1 });
    expect(single.macroF1).toBeCloseTo((2 / 3 + 0 + 2 / 3) / 3, 10);
  });

  it('fits weights that favour the better member, on the simplex', () => {
    const weights = fitWeights([a, c], labels, 3);
    expect(weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 10);
    expect(weights[0]!).toBeGreaterThan(weights[1]!);
  });
});
