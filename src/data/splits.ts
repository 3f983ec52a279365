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

/** Why the test rows were read: the final evaluation, or an opted-in learning curve (evaluation.test_curve). */
export type TestReadPurpose = 'final evaluation' | 'test curve';

/**
 * The test rows, sealed: nothing trains or chooses on them, and reading them is an act with a
 * purpose that is recorded (`reads`), so a test can prove the final evaluation is the first read.
 * Their count is not a read.
 */
export class SealedRows {
  readonly reads: TestReadPurpose[] = [];
  private readonly listeners = new Set<(purpose: TestReadPurpose) => void>();

  constructor(private readonly rows: Int32Array) {}

  get length(): number {
    return this.rows.length;
  }

  open(purpose: TestReadPurpose): Int32Array {
    this.reads.push(purpose);
    for (const listener of this.listeners) listener(purpose);
    return this.rows;
  }

  /** Hears every read as it happens; returns the unsubscribe. */
  onRead(listener: (purpose: TestReadPurpose) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/**
 * A stratified, seeded part of `rows`: round(fraction x its rows) of each class, drawn from the
 * stream `randomStream(seed, 'data', purpose)`. Returns both parts, each in dataset order.
 */
export function stratifiedHoldOut(dataset: Dataset, rows: Int32Array, fraction: number, seed: number, purpose: string): { kept: Int32Array; held: Int32Array } {
  const random = randomStream(seed, 'data', purpose);
  const held = new Uint8Array(dataset.labels.length);
  const byClass: number[][] = dataset.classes.map(() => []);
  for (const row of rows) byClass[dataset.labels[row]!]!.push(row);
  for (const members of byClass) {
    const shuffled = shuffleInPlace(Int32Array.from(members), random);
    const take = Math.round(members.length * fraction);
    for (let i = 0; i < take; i++) held[shuffled[i]!] = 1;
  }
  return { kept: rows.filter((r) => !held[r]), held: rows.filter((r) => held[r] === 1) };
}

/**
 * The rows held out as validation by `data.split.validation_fraction` in a run without folds (folds
 * validate on their own rows): the training rows trained on and those validated on. The one place
 * both the run and its estimate take them from, so that they agree.
 */
export function validationHoldOut(dataset: Dataset, train: Int32Array, split: DataConfig['split'], seed: number, folds: boolean): { train: Int32Array; validation: Int32Array } | undefined {
  const fraction = split.validation_fraction;
  if (folds || fraction === null || fraction === undefined) return undefined;
  const { kept, held } = stratifiedHoldOut(dataset, train, fraction, seed, 'validation_fraction');
  return { train: kept, validation: held };
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
    const { kept, held } = stratifiedHoldOut(dataset, train, split.test_fraction, seed, 'test_fraction');
    return { train: kept, test: held };
  }
  return split.test === null ? { train } : { train, test: namedSplit(dataset, split.test, 'test') };
}
