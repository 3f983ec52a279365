import { createHash } from 'node:crypto';
import type { ImageShape } from '../core/image.js';

// The shape and the error moved down to core/ (data sources in the registry use them); re-exported
// so that importers of this module keep working.
export { imageSize, type ImageShape } from '../core/image.js';
export { DataError } from '../core/data-error.js';

/**
 * A whole dataset in memory, as compact as it can be: one byte per pixel (FER2013 in full is
 * ~83 MB) and one per label. Rows keep the order of the source (file order for a CSV), which the
 * `contiguous` fold strategy and the row numbers in errors rely on.
 */
export interface Dataset {
  /** SHA-256 over the content (classes, shape, splits, labels, pixels): identifies the data whatever file it came from. */
  digest: string;
  classes: string[];
  image: ImageShape;
  /** Row-major pixels of every image, rows x height x width x channels. */
  pixels: Uint8Array;
  /** The class index of each row. */
  labels: Uint8Array;
  /** The split of each row, an index into splitNames. */
  splits: Uint8Array;
  splitNames: string[];
  /** Where the data came from, for reports: `csv /path`, `folder /path`, `synthetic`. */
  source: string;
}

export function rowCount(dataset: Dataset): number {
  return dataset.labels.length;
}

/** Rows of one split, in dataset order. */
export function rowsOfSplit(dataset: Dataset, name: string): Int32Array {
  const index = dataset.splitNames.indexOf(name);
  if (index < 0) return new Int32Array(0);
  let count = 0;
  for (const s of dataset.splits) if (s === index) count++;
  const rows = new Int32Array(count);
  let j = 0;
  for (let i = 0; i < dataset.splits.length; i++) if (dataset.splits[i] === index) rows[j++] = i;
  return rows;
}

/** How many rows of each class are among `rows`. */
export function classCounts(dataset: Dataset, rows: ArrayLike<number>): number[] {
  const counts = new Array<number>(dataset.classes.length).fill(0);
  for (let i = 0; i < rows.length; i++) counts[dataset.labels[rows[i]!]!]!++;
  return counts;
}

export function contentDigest(parts: {
  classes: readonly string[];
  image: ImageShape;
  splitNames: readonly string[];
  splits: Uint8Array;
  labels: Uint8Array;
  pixels: Uint8Array;
}): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ version: 1, classes: parts.classes, image: parts.image, splitNames: parts.splitNames }));
  hash.update(parts.splits);
  hash.update(parts.labels);
  hash.update(parts.pixels);
  return hash.digest('hex');
}
