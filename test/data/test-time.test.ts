import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { startEngine } from '../../src/backend/backend.js';
import { compileModel } from '../../src/compile/model-builder.js';
import { loadConfig, readConfig } from '../../src/config/load.js';
import type { Tf } from '../../src/core/tf.js';
import { createAugmenter } from '../../src/data/augment.js';
import { drawMix, mixBatch, mixTensors } from '../../src/data/mixing.js';
import { testTime } from '../../src/data/test-time.js';
import { randomStream } from '../../src/data/random.js';
import { builtinRegistry } from '../../src/registry/index.js';

let tf: Tf;
beforeAll(async () => {
  tf = (await startEngine('tensorflow')).tf;
});

const yaml = (evaluation: string, extra = '') =>
  [
    'data:',
    '  source: {synthetic: {rows_per_class: 4, splits: [train]}}',
    '  classes: [a, b]',
    '  image: {height: 12, width: 12}',
    '  split: {train: train, test: null}',
    extra,
    'models:',
    '  m:',
    '    layers:',
    '      - conv2d: {filters: 3, kernel_size: 3, activation: relu}',
    '      - flatten',
    '      - dense: {units: $classes, activation: softmax}',
    evaluation,
  ].join('\n');

function write(text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'fer-tta-')), 'exp.yaml');
  writeFileSync(file, text);
  return file;
}

/** A 12x12 image whose left half mirrors its right half, and one that does not. */
function images(): { symmetric: tfjs.Tensor4D; lopsided: tfjs.Tensor4D } {
  const values = Float32Array.from({ length: 144 }, (_, i) => Math.sin(i * 0.7) + 1);
  const mirrored = Float32Array.from(values, (_, i) => {
    const y = Math.floor(i / 12);
    const x = i % 12;
    return values[y * 12 + Math.min(x, 11 - x)]!;
  });
  return { symmetric: tf.tensor4d(mirrored, [1, 12, 12, 1]), lopsided: tf.tensor4d(values, [1, 12, 12, 1]) };
}

describe('test-time views', () => {
  it('flip views of a mirror-symmetric image give exactly the plain prediction (and of another image, not)', async () => {
    const loaded = loadConfig(write(yaml('evaluation: {tta: [flip]}')));
    const model = compileModel(loaded, 'm', { tf, seed: 4 }).model;
    const views = testTime(loaded.config.evaluation, loaded.registry);
    const predict = (x: tfjs.Tensor4D) => model.apply(x, { training: false }) as tfjs.Tensor2D;
    const { symmetric, lopsided } = images();
    expect(Array.from(views.predict(tf, symmetric, predict).dataSync())).toEqual(Array.from(predict(symmetric).dataSync()));
    expect(Array.from(views.predict(tf, lopsided, predict).dataSync())).not.toEqual(Array.from(predict(lopsided).dataSync()));
    model.dispose();
  });

  it('ten_crop gives the corners and centre and their mirrors; shift five moved copies; entries compose', () => {
    const registry = builtinRegistry();
    const x = tf.tensor4d(Float32Array.from({ length: 2 * 6 * 6 }, (_, i) => i), [2, 6, 6, 1]);
    const tenCrop = testTime({ tta: [{ ten_crop: { size: 4, resize: null } }], combine: 'mean' }, registry).views(tf, x);
    expect(tenCrop).toHaveLength(10);
    expect(tenCrop.every((v) => v.shape.join() === '2,4,4,1')).toBe(true);
    // Top-left corner of the first image, then its mirror.
    expect(Array.from(tenCrop[0]!.dataSync().slice(0, 4))).toEqual([0, 1, 2, 3]);
    expect(Array.from(tenCrop[5]!.dataSync().slice(0, 4))).toEqual([3, 2, 1, 0]);
    const shifted = testTime({ tta: [{ shift: { pixels: 1 } }], combine: 'mean' }, registry).views(tf, x);
    expect(shifted).toHaveLength(5);
    // Moved right by one: a zero column enters on the left.
    expect(Array.from(shifted[1]!.dataSync().slice(0, 3))).toEqual([0, 0, 1]);
    expect(testTime({ tta: [{ flip: {} }, { shift: { pixels: 1 } }], combine: 'mean' }, registry).views(tf, x)).toHaveLength(10);
  });

  it('a crop that is not the models\' input size is an error at the view\'s line', () => {
    const { diagnostics } = readConfig(write(yaml('evaluation:\n  tta:\n    - flip\n    - ten_crop: {size: 10, resize: 12}')));
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ code: 'shape', path: 'evaluation.tta[1]', span: { start: { line: 16 } } });
    expect(diagnostics[0]!.message).toBe('ten_crop makes 10x10 crops, but model `m` takes 12x12 images');
    expect(readConfig(write(yaml('evaluation: {tta: [{ten_crop: {size: 12, resize: 16}}]}'))).diagnostics).toEqual([]);
    const smaller = readConfig(write(yaml('evaluation: {tta: [{ten_crop: {size: 12, resize: 8}}]}'))).diagnostics;
    expect(smaller[0]!.message).toContain('resize (8) is smaller than the crop size (12)');
    const crop = readConfig(write(yaml('', '  augment: [{crop: {size: 10}}]'))).diagnostics;
    expect(crop[0]).toMatchObject({ code: 'shape', path: 'data.augment[0]' });
    const folds = readConfig(write(yaml('folds: {k: 2}').replace('test: null}', 'test: null, validation_fraction: 0.2}'))).diagnostics;
    expect(folds[0]).toMatchObject({ severity: 'error', path: 'data.split.validation_fraction' });
    const blind = readConfig(write(yaml('training: {early_stopping: {monitor: val_accuracy}}'))).diagnostics;
    expect(blind[0]).toMatchObject({ severity: 'warning', path: 'training.early_stopping' });
    expect(blind[0]!.message).toContain('no validation rows');
    expect(readConfig(write(yaml('training: {early_stopping: {monitor: val_accuracy}}').replace('test: null}', 'test: null, validation_fraction: 0.2}'))).diagnostics).toEqual([]);
  });
});

describe('batch mixing', () => {
  it('a batch no entry draws goes through unchanged; cutmix pastes a rectangle and weighs the labels by its area', () => {
    const x = tf.tensor4d(Float32Array.from({ length: 4 * 8 * 8 }, (_, i) => i % 7), [4, 8, 8, 1]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3).toFloat() as tfjs.Tensor2D;
    const never = createAugmenter([{ mixup: { alpha: 0.2, probability: 0 } }])!;
    const neutral = mixBatch(tf, x, y, undefined, mixTensors(tf, drawMix(never, 4, { height: 8, width: 8, channels: 1 }, randomStream(1, 'mix'))));
    expect(Array.from(neutral.x.dataSync())).toEqual(Array.from(x.dataSync()));
    expect(Array.from(neutral.y.dataSync())).toEqual(Array.from(y.dataSync()));
    const cutmix = createAugmenter([{ cutmix: { alpha: 1, probability: 1 } }])!;
    const draw = drawMix(cutmix, 4, { height: 8, width: 8, channels: 1 }, randomStream(2, 'mix'));
    const pasted = draw.mask.slice(0, 64).filter((v) => v === 0).length;
    expect(draw.lambda[0]).toBeCloseTo(1 - pasted / 64, 6);
    const mixed = mixBatch(tf, x, y, undefined, mixTensors(tf, draw));
    const rowSums = tf.sum(mixed.y, 1).dataSync();
    rowSums.forEach((s) => expect(s).toBeCloseTo(1, 6));
  });

  it('crop with padding moves the image by whole pixels, filling zeros', () => {
    const augmenter = createAugmenter([{ crop: { size: 4, padding: 1 } }])!;
    const image = Float32Array.from({ length: 16 }, (_, i) => i + 1);
    // Draws 0 and 0: the window's corner at the padded image's top-left, one pixel up and left of the image.
    const draws = [0, 0];
    augmenter.apply(image, 1, { height: 4, width: 4, channels: 1 }, () => draws.shift()!);
    expect(Array.from(image)).toEqual([0, 0, 0, 0, 0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11]);
  });
});
