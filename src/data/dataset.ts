import { createHash } from 'node:crypto';
import { FerError } from '../core/errors.js';

/** Image size of a dataset as stored (before preprocessing). */
export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

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

export function imageSize(image: ImageShape): number {
  return image.height * image.width * image.channels;
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

/** A problem with the data itself (or finding it). It names the file, and the line or image, when there is one. */
export class DataError extends FerError {
  constructor(
    message: string,
    readonly where?: { file: string; line?: number },
    hint?: string,
  ) {
    super(where ? `${where.file}${where.line !== undefined ? `:${where.line}` : ''}: ${message}` : message, hint);
    this.name = 'DataError';
  }
}

/** A growable byte buffer: sources do not know their row count until the end. */
export class ByteBuilder {
  private buffer: Uint8Array;
  length = 0;

  constructor(initial = 1 << 16) {
    this.buffer = new Uint8Array(initial);
  }

  /** Makes room for `extra` more bytes and returns the buffer to write into at `length`. */
  reserve(extra: number): Uint8Array {
    if (this.length + extra > this.buffer.length) {
      let size = this.buffer.length * 2;
      while (size < this.length + extra) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    return this.buffer;
  }

  push(value: number): void {
    this.reserve(1)[this.length++] = value;
  }

  /** The bytes written, in a buffer of exactly that size. */
  finish(): Uint8Array {
    return this.length === this.buffer.length ? this.buffer : this.buffer.slice(0, this.length);
  }
}
