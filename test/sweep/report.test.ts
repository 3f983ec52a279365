import { describe, expect, it } from 'vitest';
import { parameterImportance } from '../../src/sweep/report.js';
import type { TrialRecord } from '../../src/sweep/state.js';

const trial = (index: number, params: TrialRecord['params'], objective: number): TrialRecord => ({
  id: `t${index}`,
  index,
  state: 'finished',
  assignment: {},
  params,
  overrides: [],
  objective,
  started: '',
  updated: '',
});

describe('parameter importance', () => {
  it('is 1 for a parameter that alone decides the objective, near 0 for one that does not matter, unknown below four trials', () => {
    const trials = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => trial(i, { optimizer: i % 2 === 0 ? 'adam' : 'sgd', noise: (i * 7) % 8, rare: 1 }, i % 2 === 0 ? 0.6 : 0.4));
    const found = parameterImportance([...trials, trial(8, { only: 1 }, 0.5)]);
    const by = Object.fromEntries(found.map((f) => [f.name, f.importance]));
    expect(by.optimizer).toBeCloseTo(1, 6);
    expect(by.noise).toBeLessThan(0.2);
    expect(by.rare).toBe(0);
    expect(by.only).toBeNaN();
    expect(found[0]!.name).toBe('optimizer');
    expect(found[found.length - 1]!.name).toBe('only');
  });
});
