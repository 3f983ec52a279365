import type { DataConfig } from '../config/types.js';
import { didYouMean } from '../core/suggest.js';
import { rowsOfSplit, type Dataset } from './dataset.js';
import { DataError } from '../core/data-error.js';
import { randomStream, shuffleInPlace } from './random.js';

export interface SplitRows {
  /** Rows the models train (and cross-validate) on, in dataset order. */
  train: Int32Array;
  /** Held-out rows for the final evaluation, or undefined when the config has none. */
  test?: Int32Array;
}

function namedSplit(dataset: Dataset, name: string, key: string): Int32Array {
  const rows = rowsOfSplit(dataset, name);
  if (rows.length === 0) {
    const hint = didYouMean(name, dataset.splitNames);
    throw new DataError(
      `the data has no split \`${name}\` (data.split.${key}); its splits are ${dataset.splitNames.map((s) => `\`${s}\``).join(', ')}`,
      undefined,
      hint ?? `set data.split.${key} to one of them`,
    );
  }
  return rows;
}

/**
 * The train and test rows the data section asks for: named splits of the source, or a test set
 * carved out of the train split by `test_fraction` (stratified, seeded with
 * deriveSeed(seed, 'data', 'test_fraction'), each class contributing round(fraction x its rows)).
 */
export function selectSplits(dataset: Dataset, split: DataConfig['split'], seed: number): SplitRows {
  const train = namedSplit(dataset, split.train, 'train');
  if (split.test_fraction !== null && split.test_fraction !== undefined) {
    const random = randomStream(seed, 'data', 'test_fraction');
    const inTest = new Uint8Array(dataset.labels.length);
    const byClass: number[][] = dataset.classes.map(() => []);
    for (const row of train) byClass[dataset.labels[row]!]!.push(row);
    for (const rows of byClass) {
      const shuffled = shuffleInPlace(Int32Array.from(rows), random);
      const take = Math.round(rows.length * split.test_fraction);
      for (let i = 0; i < take; i++) inTest[shuffled[i]!] = 1;
    }
    return { train: train.filter((r) => !inTest[r]), test: train.filter((r) => inTest[r] === 1) };
  }
  return split.test === null ? { train } : { train, test: namedSplit(dataset, split.test, 'test') };
}
