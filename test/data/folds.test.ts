import { describe, expect, it } from 'vitest';
import { assignFolds, foldRows } from '../../src/data/folds.js';

/** 1,000 rows of 7 unbalanced classes in a fixed pattern. */
const labels = Uint8Array.from({ length: 1000 }, (_, i) => [0, 1, 2, 3, 3, 3, 4, 5, 6, 6][i % 10]! * ((i * 7919) % 13 === 0 ? 0 : 1));
const rows = Int32Array.from({ length: 1000 }, (_, i) => i * 2);

describe('fold assignment', () => {
  it('is the same for the same seed (digest pinned, so also across machines) and differs with the seed', () => {
    const a = assignFolds(labels, 7, 5, 'stratified', 2017);
    expect(assignFolds(labels, 7, 5, 'stratified', 2017).digest).toBe(a.digest);
    expect(a.digest).toBe('e99d9aee01d700c40d0634ee9dc6f1d2d967426dcc5c2d08b60c23311144000b');
    expect(assignFolds(labels, 7, 5, 'stratified', 2018).digest).not.toBe(a.digest);
    expect(assignFolds(labels, 7, 5, 'random', 2017).digest).not.toBe(a.digest);
  });

  it.each(['stratified', 'random', 'contiguous'] as const)('%s: every row validates in exactly one fold, sizes differ by at most one', (strategy) => {
    const k = 4;
    const assignment = assignFolds(labels, 7, k, strategy, 1);
    const seen = new Uint8Array(labels.length);
    const sizes: number[] = [];
    for (let f = 0; f < k; f++) {
      const { train, validation } = foldRows(rows, assignment, f);
      expect(train.length + validation.length).toBe(rows.length);
      for (const r of validation) seen[r / 2]!++;
      sizes.push(validation.length);
    }
    expect(Array.from(seen).every((count) => count === 1)).toBe(true);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it('stratified keeps each class within one row of its exact share in every fold', () => {
    for (const k of [2, 3, 4, 5, 10]) {
      const assignment = assignFolds(labels, 7, k, 'stratified', 5);
      for (let c = 0; c < 7; c++) {
        const total = labels.filter((l) => l === c).length;
        for (let f = 0; f < k; f++) {
          const inFold = labels.filter((l, p) => l === c && assignment.fold[p] === f).length;
          expect(Math.abs(inFold - total / k)).toBeLessThan(1);
        }
      }
    }
  });

  it('contiguous validates blocks in file order, as the reference study did', () => {
    const assignment = assignFolds(labels, 7, 4, 'contiguous', 99);
    const { validation } = foldRows(rows, assignment, 1);
    expect(validation[0]).toBe(250 * 2);
    expect(validation[validation.length - 1]).toBe(499 * 2);
    expect(assignFolds(labels, 7, 4, 'contiguous', 1).digest).toBe(assignment.digest); // no randomness
  });

  it('refuses more folds than rows', () => {
    expect(() => assignFolds(labels.subarray(0, 3), 7, 4, 'random', 0)).toThrow('4 folds need at least 4 training rows');
  });
});
