import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import type { DataInput } from '../../src/data/load.js';
import { readSyntheticSource } from '../../src/registry/sources/synthetic.js';

const CLASSES = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

/** The one line a test file prints when it skips its FER2013 tests, saying how to run them. */
export const FER2013_SKIPPED = 'FER2013 tests skipped: set FER_DATA to the folder holding fer2013-train-public.csv.gz and sample-700.csv (CI sets FER_DATA=../shared/data/fer2013)';

/**
 * The FER2013 folder, from FER_DATA only (a fresh clone has nothing beside it, so `npm test` must
 * pass without it). Undefined without FER_DATA, after printing FER2013_SKIPPED once for the calling
 * test file; set but wrong, the tests using it fail rather than skip.
 */
export function fer2013(): string | undefined {
  const dir = process.env.FER_DATA;
  if (dir) return path.resolve(dir);
  console.warn(FER2013_SKIPPED);
  return undefined;
}

export function tempDir(prefix = 'fer-data-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** A small CSV in the FER2013 layout with 2x2 grayscale images; `pixels` per row as given. */
export function writeCsv(rows: readonly (readonly [number, string, string])[], options: { gzip?: boolean; header?: string; dir?: string } = {}): string {
  const text = [options.header ?? 'emotion,pixels,Usage', ...rows.map(([label, pixels, usage]) => `${label},${pixels},${usage}`)].join('\n') + '\n';
  const dir = options.dir ?? tempDir();
  const file = path.join(dir, options.gzip ? 'data.csv.gz' : 'data.csv');
  writeFileSync(file, options.gzip ? gzipSync(text) : text);
  return file;
}

/**
 * A CSV in the FER2013 layout (emotion,pixels,Usage; 48x48 grayscale) with fer's seeded synthetic
 * images, `rowsPerClass` of each of the 7 classes, classes interleaved: for tests that need a file
 * of the real format but not the real faces.
 */
export function writeSyntheticFer2013Csv(rowsPerClass: number, options: { usage?: string; dir?: string; seed?: number } = {}): string {
  const image = { height: 48, width: 48, channels: 1 };
  const rows = readSyntheticSource({ rowsPerClass, splits: ['train'], noise: 0.5, classes: CLASSES, image, seed: options.seed ?? 1 });
  const size = image.height * image.width;
  const lines = ['emotion,pixels,Usage'];
  for (let row = 0; row < rows.labels.length; row++) {
    lines.push(`${rows.labels[row]},${rows.pixels.subarray(row * size, (row + 1) * size).join(' ')},${options.usage ?? 'Training'}`);
  }
  const file = path.join(options.dir ?? tempDir(), `synthetic-${rowsPerClass * CLASSES.length}.csv`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

export function dataConfig(source: DataInput['source'], overrides: Partial<DataInput> = {}): DataInput {
  return {
    source,
    classes: [...CLASSES],
    merge_classes: null,
    image: { height: 48, width: 48, channels: 1 },
    split: { train: 'Training', test: 'PublicTest', test_fraction: null, validation_fraction: null },
    preprocess: [],
    augment: [],
    class_weight: 'none',
    cache: tempDir('fer-cache-'),
    ...overrides,
  };
}

/**
 * An RGB PNG whose colours have gray (BT.601 luma) values with every fraction: a test of the
 * grayscale conversion sees the difference between rounding and not.
 */
export function rgbPng(width = 48, height = 48): Buffer {
  const image = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) image.data.set([(i * 37) % 256, (i * 91 + 11) % 256, (i * 53 + 7) % 256, 255], i * 4);
  return PNG.sync.write(image);
}
