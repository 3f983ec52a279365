import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startEngine } from '../../src/backend/backend.js';
import { compileModel } from '../../src/compile/model-builder.js';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import type { Tf } from '../../src/core/tf.js';
import { createAugmenter } from '../../src/data/augment.js';
import { loadDataset } from '../../src/data/load.js';
import { fitPreprocessor } from '../../src/data/preprocess.js';
import { selectSplits } from '../../src/data/splits.js';
import { trainModel } from '../../src/engine/trainer.js';

// Deterministic TensorFlow ops must be on before the native library loads (this file runs in its own process).
process.env.TF_DETERMINISTIC_OPS = '1';
let tf: Tf;
beforeAll(async () => {
  tf = (await startEngine('tensorflow', { deterministic: true })).tf;
});

/** A tiny model on synthetic 16x16 images; `augment` and `training` lines added to the defaults. */
const tiny = (augment: string, training = '') =>
  [
    'seed: 3',
    'data:',
    '  source: {synthetic: {rows_per_class: 12, splits: [train], noise: 0.2}}',
    '  classes: [a, b, c]',
    '  image: {height: 16, width: 16}',
    '  split: {train: train, test: null}',
    '  preprocess: [{scale: {}}]',
    `  augment: [${augment}]`,
    'models:',
    '  m:',
    '    layers:',
    '      - conv2d: {filters: 4, kernel_size: 3, padding: same, activation: relu}',
    '      - batch_norm',
    '      - max_pool2d',
    '      - flatten',
    '      - dropout: {rate: 0.3}',
    '      - dense: {units: $classes, activation: softmax}',
    'training:',
    '  epochs: 3',
    '  batch_size: 8',
    '  optimizer: {sgd: {learning_rate: 0.05, momentum: 0.9}}',
    training,
  ].join('\n');

function config(text: string): LoadedConfig {
  const dir = mkdtempSync(path.join(tmpdir(), 'fer-techniques-'));
  writeFileSync(path.join(dir, 'exp.yaml'), text);
  return loadConfig(path.join(dir, 'exp.yaml'));
}

async function run(loaded: LoadedConfig, options: { graphSteps?: boolean; checkpointDir?: string; abortAfterBatches?: number } = {}) {
  const { dataset } = await loadDataset({ data: loaded.config.data!, seed: loaded.config.seed });
  const { train } = selectSplits(dataset, loaded.config.data!.split, loaded.config.seed);
  const trainRows = train.filter((_, i) => i % 4 !== 0);
  const validationRows = train.filter((_, i) => i % 4 === 0);
  const preprocessor = fitPreprocessor(loaded.config.data!.preprocess, dataset, trainRows);
  const model = compileModel(loaded, 'm', { tf, seed: 11 }).model;
  const notices: string[] = [];
  const controller = new AbortController();
  let batches = 0;
  const result = await trainModel({
    tf,
    registry: loaded.registry,
    model,
    training: loaded.config.training,
    train: { dataset, rows: trainRows, preprocessor, batchSize: loaded.config.training.batch_size, shuffle: true, seed: 5, augmenter: createAugmenter(loaded.config.data!.augment, loaded.registry) },
    validation: { dataset, rows: validationRows, preprocessor, batchSize: 16, shuffle: false, seed: 5 },
    fingerprint: 'test',
    signal: controller.signal,
    onBatch: () => {
      if (options.abortAfterBatches !== undefined && ++batches >= options.abortAfterBatches) controller.abort();
    },
    ...(options.checkpointDir ? { checkpointDir: options.checkpointDir } : {}),
    ...(options.graphSteps !== undefined ? { graphSteps: options.graphSteps } : {}),
    onNotice: (message) => notices.push(message),
  });
  const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
  model.dispose();
  return { result, weights, notices };
}

const strip = (history: { seconds: number; images_per_second: number }[]) => history.map(({ seconds: _s, images_per_second: _i, ...rest }) => rest);
const largestDifference = (a: number[][], b: number[][]) => Math.max(...a.flatMap((w, i) => w.map((v, k) => Math.abs(v - b[i]![k]!))));

describe('training techniques', () => {
  it('mixup with alpha -> 0 trains exactly as no mixup; with alpha 1 it trains differently', async () => {
    const plain = await run(config(tiny('flip_horizontal, shift')));
    const faint = await run(config(tiny('flip_horizontal, shift, {mixup: {alpha: 1.0e-9}}')));
    const mixed = await run(config(tiny('flip_horizontal, shift, {mixup: {alpha: 1}}')));
    expect(faint.notices).toEqual([]);
    expect(faint.result.steps).toBe('graph');
    expect(largestDifference(faint.weights, plain.weights)).toBeLessThan(1e-6);
    faint.result.history.forEach((m, i) => expect(m.val_loss!).toBeCloseTo(plain.result.history[i]!.val_loss!, 5));
    expect(largestDifference(mixed.weights, plain.weights)).toBeGreaterThan(1e-3);
  });

  it('an average of the weights with decay 0 is the raw weights; with decay 0.9 it is not', async () => {
    const raw = await run(config(tiny('flip_horizontal')));
    const zero = await run(config(tiny('flip_horizontal', '  ema: {decay: 0}')));
    const averaged = await run(config(tiny('flip_horizontal', '  ema: {decay: 0.9}')));
    expect(zero.weights).toEqual(raw.weights);
    expect(strip(zero.result.history)).toEqual(strip(raw.result.history));
    expect(zero.result.kept).toContain('moving average (decay 0)');
    expect(largestDifference(averaged.weights, raw.weights)).toBeGreaterThan(1e-4);
    // The training loss is the raw weights' (the same); validation is the average's (not).
    expect(averaged.result.history[0]!.loss).toBe(raw.result.history[0]!.loss);
    expect(averaged.result.history.map((m) => m.val_loss)).not.toEqual(raw.result.history.map((m) => m.val_loss));
  });

  it.each([
    ['reduce_on_plateau and early stopping', '  schedule: {reduce_on_plateau: {monitor: val_loss, patience: 1}}\n  early_stopping: {monitor: val_accuracy, patience: 5}'],
    ['cosine with warm-up', '  schedule: {cosine: {warmup_epochs: 1}}'],
  ])('every technique on (%s) keeps the steps recorded, seeded, and as op by op computes them', async (_name, schedule) => {
    const everything = () =>
      config(
        tiny(
          'flip_horizontal, {crop: {size: 16, padding: 2}}, {mixup: {alpha: 0.4, probability: 0.5}}, {cutmix: {alpha: 1, probability: 1}}',
          [
            '  optimizer: {sgd: {learning_rate: 0.05, momentum: 0.9, nesterov: true}}',
            '  loss: {categorical_crossentropy: {label_smoothing: 0.1}}',
            '  ema: {decay: 0.5}',
            schedule,
          ].join('\n'),
        ).replace('  optimizer: {sgd: {learning_rate: 0.05, momentum: 0.9}}\n', ''),
      );
    const first = await run(everything());
    expect(first.notices).toEqual([]);
    expect(first.result.steps).toBe('graph');
    const again = await run(everything());
    expect(again.weights).toEqual(first.weights);
    expect(strip(again.result.history)).toEqual(strip(first.result.history));
    const opByOp = await run(everything(), { graphSteps: false });
    first.result.history.forEach((m, i) => expect(m.loss).toBeCloseTo(opByOp.result.history[i]!.loss, 4));
    expect(largestDifference(first.weights, opByOp.weights)).toBeLessThan(1e-3);
    expect(first.result.kept).toMatch(/^epoch \d/);
    // Cut mid-epoch and resumed from the checkpoint (the average of the weights is in it), it ends
    // as the uninterrupted run did.
    const dir = mkdtempSync(path.join(tmpdir(), 'fer-techniques-checkpoint-'));
    const cut = await run(everything(), { checkpointDir: dir, abortAfterBatches: 5 }); // 3 batches per epoch: cut in epoch 2
    expect(cut.result.interrupted).toBe(true);
    const resumed = await run(everything(), { checkpointDir: dir });
    expect(resumed.result.resumedAfter).toBe(1);
    expect(strip(resumed.result.history)).toEqual(strip(first.result.history));
    expect(resumed.weights).toEqual(first.weights);
  });
});
