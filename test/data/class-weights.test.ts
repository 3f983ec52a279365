import { describe, expect, it } from 'vitest';
import { classWeights } from '../../src/data/class-weights.js';

const counts = [3995, 436, 4097, 7215, 4830, 3171, 4965];

describe('class weights', () => {
  it('none, balanced (scikit-learn style) and the reference majority ratio', () => {
    expect(classWeights('none', counts, 1)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    const total = counts.reduce((a, b) => a + b, 0);
    expect(classWeights('balanced', counts, 1)[1]).toBeCloseTo(total / (7 * 436), 10);
    const ratio = classWeights({ majority_ratio: { noise_sigma: 0 } }, counts, 1);
    expect(ratio[3]).toBe(1);
    expect(ratio[1]).toBeCloseTo(7215 / 436, 10);
  });

  it('adds seeded Gaussian noise per member', () => {
    const spec = { majority_ratio: { noise_sigma: 0.2 } };
    const a = classWeights(spec, counts, 11);
    expect(classWeights(spec, counts, 11)).toEqual(a);
    expect(classWeights(spec, counts, 12)).not.toEqual(a);
    const clean = classWeights({ majority_ratio: { noise_sigma: 0 } }, counts, 11);
    const deviations = a.map((w, i) => w - clean[i]!);
    expect(Math.max(...deviations.map(Math.abs))).toBeLessThan(1);
  });
});
