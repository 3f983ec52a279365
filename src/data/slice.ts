import { createHash } from 'node:crypto';
import { imageSize } from '../core/image.js';
import { rowsOfSplit, type Dataset } from './dataset.js';

/**
 * A few rows of each named split: up to `rows[split]` of it, taken class by class in turn (the
 * first row of each class, then the second, ...) so every class that the split has is in the slice
 * while there is room. Splits not named keep no rows. Its digest is the whole data's and the slice's:
 * a slice is other data than the whole, and the same slice of the same data is the same.
 */
export function sliceDataset(dataset: Dataset, rows: Readonly<Record<string, number>>): Dataset {
  const picked: number[] = [];
  for (const [split, count] of Object.entries(rows)) {
    const byClass: number[][] = dataset.classes.map(() => []);
    for (const row of rowsOfSplit(dataset, split)) byClass[dataset.labels[row]!]!.push(row);
    const taken: number[] = [];
    for (let i = 0; taken.length < count && byClass.some((c) => c.length > i); i++) {
      for (const c of byClass) if (c.length > i && taken.length < count) taken.push(c[i]!);
    }
    picked.push(...taken);
  }
  picked.sort((a, b) => a - b);
  const size = imageSize(dataset.image);
  const pixels = new Uint8Array(picked.length * size);
  const labels = new Uint8Array(picked.length);
  const splits = new Uint8Array(picked.length);
  picked.forEach((row, i) => {
    pixels.set(dataset.pixels.subarray(row * size, (row + 1) * size), i * size);
    labels[i] = dataset.labels[row]!;
    splits[i] = dataset.splits[row]!;
  });
  const digest = createHash('sha256').update(JSON.stringify({ slice: rows, of: dataset.digest })).digest('hex');
  return { ...dataset, pixels, labels, splits, digest, source: `${dataset.source} (a slice: ${Object.entries(rows).map(([s, n]) => `${n} ${s} rows`).join(', ')})` };
}
