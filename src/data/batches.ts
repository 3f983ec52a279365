import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../core/tf.js';
import type { Augmenter } from './augment.js';
import type { Dataset } from './dataset.js';
import { imageSize } from '../core/image.js';
import { gatherRows, type Preprocessor } from './preprocess.js';
import { drawMix, mixTensors, type MixTensors } from './mixing.js';
import { randomStream, shuffleInPlace } from './random.js';

export interface Batch {
  x: tfjs.Tensor4D;
  /** One-hot labels. */
  y: tfjs.Tensor2D;
  /** Per-example loss weights (the class weight of each label), when class weights are used. */
  weights?: tfjs.Tensor1D;
  /** The dataset rows in this batch, in batch order. */
  rows: Int32Array;
  /** With mixup or cutmix: how the training step mixes this batch (data/mixing.ts); neutral when it does not. */
  mix?: MixTensors;
}

export interface BatchPlan {
  dataset: Dataset;
  rows: Int32Array;
  preprocessor: Preprocessor;
  batchSize: number;
  /** Shuffle every epoch (training); validation and test keep dataset order. */
  shuffle: boolean;
  /** Training only. */
  augmenter?: Augmenter;
  classWeights?: readonly number[];
  /** The task seed: an epoch's order and augmentation draw from deriveSeed(seed, 'shuffle'|'augment', epoch). */
  seed: number;
}

/**
 * Batches as tf tensors, built one at a time from the uint8 dataset: nothing is copied per epoch
 * but the batch itself (raw bytes -> floats -> augment -> preprocess -> tensor). The caller
 * disposes each batch's tensors after use. Randomness depends only on the seed and the epoch, so
 * a run resumed at an epoch sees the same batches as an uninterrupted one.
 */
export function* batches(tf: Tf, plan: BatchPlan, epoch: number): Generator<Batch> {
  const order = Int32Array.from(plan.rows);
  if (plan.shuffle) shuffleInPlace(order, randomStream(plan.seed, 'shuffle', epoch));
  const random = plan.augmenter ? randomStream(plan.seed, 'augment', epoch) : undefined;
  // Its own stream: turning mixing on or off leaves every other draw (the images' augmentation) as it was.
  const mixRandom = plan.augmenter?.mix ? randomStream(plan.seed, 'mix', epoch) : undefined;
  const { dataset, preprocessor } = plan;
  const classes = dataset.classes.length;
  const size = imageSize(dataset.image);
  const out = preprocessor.outputShape;
  for (let start = 0; start < order.length; start += plan.batchSize) {
    const rows = order.subarray(start, Math.min(order.length, start + plan.batchSize));
    const n = rows.length;
    const raw = gatherRows(dataset, rows, new Float32Array(n * size));
    if (plan.augmenter && random) plan.augmenter.apply(raw, n, dataset.image, random);
    const inputs = preprocessor.apply(raw, n);
    const oneHot = new Float32Array(n * classes);
    for (let i = 0; i < n; i++) oneHot[i * classes + dataset.labels[rows[i]!]!] = 1;
    const batch: Batch = {
      x: tf.tensor4d(inputs, [n, out.height, out.width, out.channels]),
      y: tf.tensor2d(oneHot, [n, classes]),
      rows: Int32Array.from(rows),
    };
    if (plan.classWeights) {
      const weights = new Float32Array(n);
      for (let i = 0; i < n; i++) weights[i] = plan.classWeights[dataset.labels[rows[i]!]!]!;
      batch.weights = tf.tensor1d(weights);
    }
    if (mixRandom) batch.mix = mixTensors(tf, drawMix(plan.augmenter!, n, out, mixRandom));
    yield batch;
  }
}

export function batchCount(rows: number, batchSize: number): number {
  return Math.ceil(rows / batchSize);
}
