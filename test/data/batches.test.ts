import { beforeAll, describe, expect, it } from 'vitest';
import { createAugmenter } from '../../src/data/augment.js';
import { batches } from '../../src/data/batches.js';
import { loadDataset } from '../../src/data/load.js';
import { fitPreprocessor } from '../../src/data/preprocess.js';
import type { Dataset } from '../../src/data/dataset.js';
import { loadTf } from '../../src/backend/load-tf.js';
import type { Tf } from '../../src/core/tf.js';
import { dataConfig } from '../helpers/data.js';

let tf: Tf;
let dataset: Dataset;
beforeAll(async () => {
  tf = await loadTf();
  const config = dataConfig({ synthetic: { rows_per_class: 10, splits: ['train'], noise: 0.3 } }, { classes: ['a', 'b', 'c'], image: { height: 12, width: 12, channels: 1 } });
  dataset = (await loadDataset({ data: config, seed: 1 })).dataset;
});

describe('batches', () => {
  const plan = () => {
    const rows = Int32Array.from({ length: dataset.labels.length }, (_, i) => i);
    return {
      dataset,
      rows,
      preprocessor: fitPreprocessor(['subtract_mean', 'to_rgb'], dataset, rows),
      batchSize: 8,
      shuffle: true,
      augmenter: createAugmenter(['flip_horizontal', 'shift']),
      classWeights: [1, 2, 3],
      seed: 5,
    };
  };

  it('covers every row once per epoch, in a seeded order, with one-hot labels and class weights', () => {
    const seen: number[] = [];
    for (const batch of batches(tf, plan(), 0)) {
      expect(batch.x.shape.slice(1)).toEqual([12, 12, 3]);
      const y = batch.y.arraySync();
      const w = batch.weights!.arraySync();
      batch.rows.forEach((row, i) => {
        expect(y[i]![dataset.labels[row]!]).toBe(1);
        expect(w[i]).toBe(dataset.labels[row]! + 1);
      });
      seen.push(...batch.rows);
      tf.dispose([batch.x, batch.y, batch.weights!]);
    }
    expect(seen.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    const order = (epoch: number) => [...batches(tf, plan(), epoch)].flatMap((b) => (tf.dispose([b.x, b.y, b.weights!]), Array.from(b.rows)));
    expect(order(0)).toEqual(seen);
    expect(order(1)).not.toEqual(seen);
  });

  it('gives identical inputs for the same seed and epoch (resume sees the same batches)', () => {
    const values = () => [...batches(tf, plan(), 3)].map((b) => {
      const x = Array.from(b.x.dataSync());
      tf.dispose([b.x, b.y, b.weights!]);
      return x;
    });
    expect(values()).toEqual(values());
  });

  it('leaks no tensors across epochs', () => {
    const before = tf.memory().numTensors;
    for (let epoch = 0; epoch < 3; epoch++) for (const b of batches(tf, plan(), epoch)) tf.dispose([b.x, b.y, b.weights!]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
