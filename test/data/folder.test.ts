import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/core/data-error.js';
import { loadDataset } from '../../src/data/load.js';
import { splitSummary } from '../../src/data/summary.js';
import { dataConfig, tempDir } from '../helpers/data.js';

function png(value: number, size = 4): Buffer {
  const image = new PNG({ width: size, height: size });
  for (let i = 0; i < size * size; i++) image.data.set([value, value, value, 255], i * 4);
  return PNG.sync.write(image);
}

function jpg(value: number, size = 4): Buffer {
  return Buffer.from(jpeg.encode({ width: size, height: size, data: Buffer.alloc(size * size * 4, value) }, 100).data);
}

function layout(files: Record<string, Buffer>): string {
  const root = tempDir('fer-folder-');
  for (const [name, bytes] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), bytes);
  }
  return root;
}

const config = (root: string) =>
  dataConfig({ folder: { path: root } }, { classes: ['angry', 'happy'], image: { height: 4, width: 4, channels: 1 }, split: { train: 'train', test: 'test', test_fraction: null, validation_fraction: null } });

describe('image folder source', () => {
  it('reads <split>/<class>/*.png|jpg in name order, matching class folders case-insensitively', async () => {
    const root = layout({
      'train/Happy/b.png': png(200),
      'train/Happy/a.jpg': jpg(100),
      'train/angry/c.png': png(10),
      'test/happy/d.png': png(50),
    });
    const { dataset } = await loadDataset({ data: config(root), seed: 0 });
    expect(dataset.splitNames).toEqual(['test', 'train']);
    expect(splitSummary(dataset)).toEqual({
      test: { rows: 1, classes: { angry: 0, happy: 1 } },
      train: { rows: 3, classes: { angry: 1, happy: 2 } },
    });
    // Row order is by code unit, the same on every machine: test/happy/d, train/Happy/a.jpg,
    // train/Happy/b.png, train/angry/c.
    expect(Array.from(dataset.labels)).toEqual([1, 1, 1, 0]);
    expect(dataset.pixels[0]).toBe(50);
    expect(Math.abs(dataset.pixels[16]! - 100)).toBeLessThanOrEqual(1);
    expect(dataset.pixels[32]).toBe(200);
    expect(dataset.pixels[48]).toBe(10);
  });

  it('names an unknown class folder and the image of the wrong size', async () => {
    const unknown = layout({ 'train/hapy/a.png': png(1) });
    await expect(loadDataset({ data: config(unknown), seed: 0 })).rejects.toThrow(DataError);
    try {
      await loadDataset({ data: config(unknown), seed: 0 });
    } catch (error) {
      expect((error as DataError).message).toContain('the class folder `hapy` is not one of data.classes');
      expect((error as DataError).hint).toContain('did you mean `happy`?');
    }
    const wrongSize = layout({ 'train/happy/a.png': png(1, 5) });
    await expect(loadDataset({ data: config(wrongSize), seed: 0 })).rejects.toThrow('the image is 5x5, but data.image is 4x4');
  });
});
