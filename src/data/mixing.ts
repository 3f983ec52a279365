import type * as tfjs from '@tensorflow/tfjs';
import type { ImageShape } from '../core/image.js';
import type { Tf } from '../core/tf.js';
import type { Augmenter } from './augment.js';
import { shuffleInPlace, type Random } from './random.js';

/**
 * Batch mixing (mixup, cutmix: the `batch` stage of data.augment). What is random is drawn in JS
 * from the task's stream, per batch (drawMix); the mixing is tensor work inside the training step
 * (mixBatch), its draws handed in as the step's inputs, so a recorded step stays recorded and a
 * batch that is not mixed goes through the same function with neutral inputs.
 */
export interface MixDraw {
  /** Each image's partner, a row of the same batch. */
  partner: Int32Array;
  /** Per image and pixel, the weight of the image's own pixel (n x h x w). */
  mask: Float32Array;
  /** Per image, the weight of its own label. */
  lambda: Float32Array;
  height: number;
  width: number;
}

export interface MixTensors {
  partner: tfjs.Tensor1D;
  /** n x h x w x 1. */
  mask: tfjs.Tensor4D;
  /** n x 1. */
  lambda: tfjs.Tensor2D;
}

/** The next batch's mix: neutral (every image its own partner, weight 1) when no entry draws it. */
export function drawMix(augmenter: Augmenter, n: number, shape: ImageShape, random: Random): MixDraw {
  const { height, width } = shape;
  const partner = Int32Array.from({ length: n }, (_, i) => i);
  const mask = new Float32Array(n * height * width).fill(1);
  const lambda = new Float32Array(n).fill(1);
  const drawn = augmenter.mix?.(shape, random);
  if (!drawn) return { partner, mask, lambda, height, width };
  shuffleInPlace(partner, random);
  lambda.fill(drawn.lambda);
  if (drawn.box) {
    const { top, left, height: h, width: w } = drawn.box;
    for (let i = 0; i < n; i++) {
      for (let y = top; y < top + h; y++) mask.fill(0, (i * height + y) * width + left, (i * height + y) * width + left + w);
    }
  } else {
    mask.fill(drawn.lambda);
  }
  return { partner, mask, lambda, height, width };
}

export function mixTensors(tf: Tf, draw: MixDraw): MixTensors {
  const n = draw.partner.length;
  return {
    partner: tf.tensor1d(draw.partner, 'int32'),
    mask: tf.tensor4d(draw.mask, [n, draw.height, draw.width, 1]),
    lambda: tf.tensor2d(draw.lambda, [n, 1]),
  };
}

/**
 * The mixed batch: each image blended with (or pasted into by) its partner by the mask, its
 * one-hot label and loss weight by lambda. With a neutral mix every factor is exactly 1 or 0, so
 * the batch comes out bit for bit as it went in.
 */
export function mixBatch(tf: Tf, x: tfjs.Tensor4D, y: tfjs.Tensor2D, weights: tfjs.Tensor1D | undefined, mix: MixTensors): { x: tfjs.Tensor4D; y: tfjs.Tensor2D; weights?: tfjs.Tensor1D } {
  const own = mix.mask;
  const other = tf.sub(1, own);
  const mixedX = tf.add(tf.mul(x, own), tf.mul(tf.gather(x, mix.partner), other)) as tfjs.Tensor4D;
  const rest = tf.sub(1, mix.lambda);
  const mixedY = tf.add(tf.mul(y, mix.lambda), tf.mul(tf.gather(y, mix.partner), rest)) as tfjs.Tensor2D;
  if (!weights) return { x: mixedX, y: mixedY };
  const lambda = tf.reshape(mix.lambda, [-1]);
  const mixedWeights = tf.add(tf.mul(weights, lambda), tf.mul(tf.gather(weights, mix.partner), tf.sub(1, lambda))) as tfjs.Tensor1D;
  return { x: mixedX, y: mixedY, weights: mixedWeights };
}
