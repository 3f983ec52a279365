import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/data/load.js';
import { readImageInput, readPredictionInputs } from '../../src/predict/inputs.js';
import type { FerConfig } from '../../src/config/types.js';
import { dataConfig, rgbPng, tempDir } from '../helpers/data.js';

/** `<root>/train/happy/face.png` holding `png`: an image folder data.source.folder reads. */
function imageFolder(png: Buffer): { root: string; file: string } {
  const root = tempDir('fer-gray-');
  mkdirSync(path.join(root, 'train', 'happy'), { recursive: true });
  const file = path.join(root, 'train', 'happy', 'face.png');
  writeFileSync(file, png);
  return { root, file };
}

describe('images to predict', () => {
  it.each([1, 3])('get exactly the pixel values they have as training data (%i channels)', async (channels) => {
    const { root, file } = imageFolder(rgbPng());
    const image = { height: 48, width: 48, channels: channels as 1 | 3 };
    const data = dataConfig({ folder: { path: root } }, { classes: ['angry', 'happy'], image, split: { train: 'train', test: null, test_fraction: null, validation_fraction: null } });
    const { dataset } = await loadDataset({ data, seed: 1, cache: false });
    expect(readImageInput(file, image)).toEqual(Float32Array.from(dataset.pixels));
    if (channels === 1) {
      // The PNG is coloured: unrounded luma would differ from the stored bytes by up to half a level.
      const rgba = PNG.sync.read(rgbPng()).data;
      const luma = Array.from({ length: 48 * 48 }, (_, i) => 0.299 * rgba[i * 4]! + 0.587 * rgba[i * 4 + 1]! + 0.114 * rgba[i * 4 + 2]!);
      expect(Math.max(...luma.map((v, i) => Math.abs(v - dataset.pixels[i]!)))).toBeGreaterThan(0.45);
    }
  });

  it('reads image files and CSV rows in the order given, resizing an image of another size', async () => {
    const dir = tempDir('fer-inputs-');
    writeFileSync(path.join(dir, 'big.png'), rgbPng(96, 96));
    writeFileSync(path.join(dir, 'rows.csv'), `emotion,pixels\n0,${Array.from({ length: 4 }, (_, i) => i * 10).join(' ')}\n3,${Array.from({ length: 4 }, () => 255).join(' ')}\n`);
    const config = { data: { ...dataConfig({ synthetic: { rows_per_class: 1, splits: ['train'], noise: 0 } }), image: { height: 2, width: 2, channels: 1 } } } as unknown as FerConfig;
    const inputs = await readPredictionInputs([path.join(dir, 'rows.csv'), path.join(dir, 'big.png')], config);
    expect(inputs.names).toEqual([`${path.join(dir, 'rows.csv')}:2`, `${path.join(dir, 'rows.csv')}:3`, path.join(dir, 'big.png')]);
    expect(Array.from(inputs.pixels.subarray(0, 8))).toEqual([0, 10, 20, 30, 255, 255, 255, 255]);
    expect(inputs.pixels).toHaveLength(12);
    await expect(readPredictionInputs([path.join(dir, 'nothing.png')], config)).rejects.toThrow(`input not found: ${path.join(dir, 'nothing.png')}`);
  });
});
