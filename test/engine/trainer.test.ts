import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../src/compile/model-builder.js';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import { createAugmenter } from '../../src/data/augment.js';
import { classWeights } from '../../src/data/class-weights.js';
import type { Dataset } from '../../src/data/dataset.js';
import { loadDataset } from '../../src/data/load.js';
import { fitPreprocessor } from '../../src/data/preprocess.js';
import { selectSplits } from '../../src/data/splits.js';
import { startEngine } from '../../src/backend/backend.js';
import { trainModel, type EpochMetrics } from '../../src/engine/trainer.js';
import type { Tf } from '../../src/core/tf.js';
import { repoRoot } from '../helpers/cli.js';
import { tempDir, writeSyntheticFer2013Csv } from '../helpers/data.js';

// Deterministic TensorFlow ops must be on before the native library loads (this file runs in its own process).
process.env.TF_DETERMINISTIC_OPS = '1';
let tf: Tf;
beforeAll(async () => {
  tf = (await startEngine('tensorflow', { deterministic: true })).tf;
});

const tiny = (extra = '') =>
  [
    'seed: 3',
    'data:',
    '  source: {synthetic: {rows_per_class: 12, splits: [train], noise: 0.2}}',
    '  classes: [a, b, c]',
    '  image: {height: 16, width: 16}',
    '  split: {train: train, test: null}',
    '  preprocess: [{scale: {}}]',
    '  augment: [flip_horizontal, shift]',
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
    '  epochs: 4',
    '  batch_size: 8',
    '  optimizer: {adam: {learning_rate: 0.01}}',
    extra,
  ].join('\n');

function config(text: string): LoadedConfig {
  const dir = mkdtempSync(path.join(tmpdir(), 'fer-train-'));
  writeFileSync(path.join(dir, 'exp.yaml'), text);
  return loadConfig(path.join(dir, 'exp.yaml'));
}

async function setup(loaded: LoadedConfig) {
  const { dataset } = await loadDataset({ data: loaded.config.data!, seed: loaded.config.seed });
  const { train } = selectSplits(dataset, loaded.config.data!.split, loaded.config.seed);
  const trainRows = train.filter((_, i) => i % 4 !== 0);
  const validationRows = train.filter((_, i) => i % 4 === 0);
  const preprocessor = fitPreprocessor(loaded.config.data!.preprocess, dataset, trainRows);
  return { dataset, trainRows, validationRows, preprocessor };
}

interface RunOptions {
  checkpointDir?: string;
  checkpointLastEpochOnly?: boolean;
  abortAfterBatches?: number;
  onEpoch?: (m: EpochMetrics) => void;
  /** `test`: the held-out quarter is passed as test rows (a final fit), not as a validation fold. */
  heldOutAs?: 'validation' | 'test';
  graphSteps?: boolean;
  notices?: string[];
}

async function run(loaded: LoadedConfig, options: RunOptions = {}) {
  const { dataset, trainRows, validationRows, preprocessor } = await setup(loaded);
  const model = compileModel(loaded, 'm', { tf, seed: 11 }).model;
  const controller = new AbortController();
  let batchesSeen = 0;
  const weights = classWeights('balanced', [1, 1, 1], 0);
  const result = await trainModel({
    tf,
    registry: loaded.registry,
    model,
    training: loaded.config.training,
    train: { dataset, rows: trainRows, preprocessor, batchSize: loaded.config.training.batch_size, shuffle: true, seed: 5, augmenter: createAugmenter(loaded.config.data!.augment), classWeights: weights },
    [options.heldOutAs ?? 'validation']: { dataset, rows: validationRows, preprocessor, batchSize: 16, shuffle: false, seed: 5 },
    ...(options.checkpointDir ? { checkpointDir: options.checkpointDir } : {}),
    ...(options.checkpointLastEpochOnly ? { checkpointLastEpochOnly: true } : {}),
    fingerprint: 'test',
    signal: controller.signal,
    onBatch: () => {
      if (options.abortAfterBatches !== undefined && ++batchesSeen >= options.abortAfterBatches) controller.abort();
    },
    ...(options.onEpoch ? { onEpoch: options.onEpoch } : {}),
    ...(options.graphSteps !== undefined ? { graphSteps: options.graphSteps } : {}),
    onNotice: (message) => options.notices?.push(message),
  });
  const finalWeights = model.getWeights().map((w) => Array.from(w.dataSync()));
  model.dispose();
  return { result, finalWeights, dataset: dataset as Dataset };
}

const strip = (history: EpochMetrics[]) => history.map(({ seconds: _s, images_per_second: _i, ...rest }) => rest);

describe('trainer', () => {
  it('gives identical metrics and weights for the same config and seed (deterministic ops)', async () => {
    const a = await run(config(tiny()));
    const b = await run(config(tiny()));
    expect(strip(a.result.history)).toEqual(strip(b.result.history));
    expect(a.finalWeights).toEqual(b.finalWeights);
    expect(a.result.history).toHaveLength(4);
    // It learns: by the loss, a mean over every batch, not by the accuracy of 27 rows, which moves in
    // steps of 1/27 and dips on the way (0.52, 0.33, 0.52, 0.63 here), so that rounding that differs
    // between CPUs could tip a comparison of two epochs' accuracies.
    expect(a.result.history[3]!.loss).toBeLessThan(a.result.history[0]!.loss);
  });

  it('resumes a run cut mid-epoch from its last checkpoint, ending exactly as an uninterrupted run', async () => {
    const whole = await run(config(tiny()));
    const dir = path.join(tempDir(), 'checkpoint');
    const cut = await run(config(tiny()), { checkpointDir: dir, abortAfterBatches: 9 }); // 3 batches per epoch: cut in epoch 3
    expect(cut.result.interrupted).toBe(true);
    expect(cut.result.history).toHaveLength(2);
    const resumed = await run(config(tiny()), { checkpointDir: dir });
    expect(resumed.result.resumedAfter).toBe(2);
    expect(strip(resumed.result.history)).toEqual(strip(whole.result.history));
    expect(resumed.finalWeights).toEqual(whole.finalWeights);
  });

  it('checkpoints only the last epoch when asked (a smoke run), and resumes from it', async () => {
    const dir = path.join(tempDir(), 'checkpoint');
    const seen: boolean[] = [];
    // onEpoch runs after the epoch's checkpoint would have been written.
    const whole = await run(config(tiny()), { checkpointDir: dir, checkpointLastEpochOnly: true, onEpoch: () => seen.push(existsSync(dir)) });
    expect(seen).toEqual([false, false, false, true]);
    const again = await run(config(tiny()), { checkpointDir: dir, checkpointLastEpochOnly: true });
    expect(again.result.resumedAfter).toBe(4);
    expect(again.finalWeights).toEqual(whole.finalWeights);
  });

  it('runs steps as recorded TensorFlow functions, as op by op does, and resumes them exactly', async () => {
    const notices: string[] = [];
    const whole = await run(config(tiny()), { notices });
    expect(notices).toEqual([]);
    // Against op by op, with SGD: Adam turns gradients that are round-off noise (a bias a batch norm
    // nearly cancels) into full-size steps, so two correct orders of summation part ways under it.
    const sgd = () => config(tiny().replace('{adam: {learning_rate: 0.01}}', '{sgd: {learning_rate: 0.05, momentum: 0.9}}'));
    const recorded = await run(sgd());
    const opByOp = await run(sgd(), { graphSteps: false });
    recorded.result.history.forEach((m, i) => {
      expect(m.loss).toBeCloseTo(opByOp.result.history[i]!.loss, 4);
      expect(m.val_loss!).toBeCloseTo(opByOp.result.history[i]!.val_loss!, 4);
    });
    const worst = Math.max(...recorded.finalWeights.flatMap((w, i) => w.map((v, k) => Math.abs(v - opByOp.finalWeights[i]![k]!) / Math.max(1, Math.abs(v)))));
    expect(worst).toBeLessThan(1e-4);
    const dir = path.join(tempDir(), 'checkpoint');
    const cut = await run(config(tiny()), { checkpointDir: dir, abortAfterBatches: 9 });
    expect(cut.result.interrupted).toBe(true);
    const resumed = await run(config(tiny()), { checkpointDir: dir });
    expect(resumed.result.resumedAfter).toBe(2);
    expect(strip(resumed.result.history)).toEqual(strip(whole.result.history));
    expect(resumed.finalWeights).toEqual(whole.finalWeights);
  });

  it('records test metrics of a final fit every epoch without changing its training', async () => {
    const withValidation = await run(config(tiny()));
    const finalFit = await run(config(tiny()), { heldOutAs: 'test' });
    // Same batches, dropout masks and updates: evaluating the test rows must not disturb training.
    expect(finalFit.finalWeights).toEqual(withValidation.finalWeights);
    finalFit.result.history.forEach((m, i) => {
      const v = withValidation.result.history[i]!;
      expect(m.val_loss).toBeUndefined();
      expect([m.loss, m.accuracy, m.test_loss, m.test_accuracy]).toEqual([v.loss, v.accuracy, v.val_loss, v.val_accuracy]);
    });
  });

  it('keeps memory flat across epochs', async () => {
    const counts: number[] = [];
    await run(config(tiny().replace('epochs: 4', 'epochs: 5')), { onEpoch: () => counts.push(tf.memory().numTensors) });
    expect(new Set(counts).size).toBe(1);
  });

  it('stops early and restores the best epoch', async () => {
    const loaded = config(
      tiny('  early_stopping: {monitor: val_accuracy, patience: 1, min_delta: 1}').replace('epochs: 4', 'epochs: 6'),
    );
    const { result } = await run(loaded);
    // No accuracy can improve by more than 1, so no epoch improves on the first and training stops
    // after epoch 2 whatever the first epoch's accuracy: 0.56 or 0.67 on this machine depending on
    // oneDNN and the thread count (min_delta 0.5 relied on it being at least 0.5).
    expect(result.history).toHaveLength(2);
    expect(result.stoppedEarly).toBe(true);
    expect(result.bestEpoch).toBe(1);
  });

  it('follows the schedule and clips', async () => {
    const loaded = config(tiny('  schedule: {step: {every: 2, factor: 0.1}}\n  clip: {norm: 1.0}'));
    const { result } = await run(loaded);
    expect(result.history.map((m) => m.learning_rate)).toEqual([0.01, 0.01, 0.001, 0.001].map((v) => expect.closeTo(v, 10)));
  });

  it.each(['sgd', '{sgd: {momentum: 0.9, nesterov: true}}', 'rmsprop', 'adagrad', 'adamax', 'adadelta', '{adamw: {weight_decay: 0.1}}'])('trains with %s', async (optimizer) => {
    const loaded = config(tiny().replace('optimizer: {adam: {learning_rate: 0.01}}', `optimizer: ${optimizer}`).replace('epochs: 4', 'epochs: 1'));
    const { result } = await run(loaded);
    expect(Number.isFinite(result.history[0]!.loss)).toBe(true);
  });
});

describe('the reference CNN on the native backend', () => {
  it('trains one epoch on a 700-row CSV in the FER2013 layout', async () => {
    const loaded = loadConfig(path.join(repoRoot, 'configs', 'cnn.yaml'), {
      overrides: [`data.source.csv=${writeSyntheticFer2013Csv(100)}`, 'data.split.test=null', `data.cache=${tempDir()}`, 'training.epochs=1'],
    });
    const { dataset } = await loadDataset({ data: loaded.config.data!, seed: 0 });
    const { train } = selectSplits(dataset, loaded.config.data!.split, 0);
    const validation = train.filter((_, i) => i % 7 === 0);
    const rows = train.filter((_, i) => i % 7 !== 0);
    const preprocessor = fitPreprocessor(loaded.config.data!.preprocess, dataset, rows);
    const model = compileModel(loaded, 'cnn', { tf, seed: 1 }).model;
    expect(tf.getBackend()).toBe('tensorflow');
    const result = await trainModel({
      tf,
      registry: loaded.registry,
      model,
      training: loaded.config.training,
      train: { dataset, rows, preprocessor, batchSize: 32, shuffle: true, seed: 1, classWeights: classWeights(loaded.config.data!.class_weight, [86, 86, 86, 86, 86, 85, 85], 1) },
      validation: { dataset, rows: validation, preprocessor, batchSize: 32, shuffle: false, seed: 1 },
    });
    const [epoch] = result.history;
    expect(epoch!.epoch).toBe(1);
    expect(Number.isFinite(epoch!.loss)).toBe(true);
    expect(epoch!.val_accuracy).toBeGreaterThanOrEqual(0);
    expect(epoch!.images_per_second).toBeGreaterThan(0);
    model.dispose();
  }, 120_000);
});
