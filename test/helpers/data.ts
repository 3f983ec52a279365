import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { DataInput } from '../../src/data/load.js';
import { PNG } from 'pngjs';
import { repoRoot } from './cli.js';

export const sharedData = path.resolve(repoRoot, '..', 'shared', 'data', 'fer2013');

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

export function dataConfig(source: DataInput['source'], overrides: Partial<DataInput> = {}): DataInput {
  return {
    source,
    classes: ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'],
    merge_classes: null,
    image: { height: 48, width: 48, channels: 1 },
    split: { train: 'Training', test: 'PublicTest', test_fraction: null },
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
