import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { DataInput } from '../../src/data/load.js';
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
