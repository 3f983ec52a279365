import type * as tfjs from '@tensorflow/tfjs';
import type { ImageShape } from '../core/image.js';
import type { Tf } from '../core/tf.js';

/**
 * Where one model looks: for each image, how much each pixel of its input moves the probability of
 * that image's class (the magnitude of the input gradient, the largest over channels). `inputs` are
 * preprocessed model inputs of `shape`, one image after another; the maps come back the same way,
 * height x width each. Plain inputs: test-time views are not applied.
 */
export async function inputGradientMaps(tf: Tf, model: tfjs.LayersModel, inputs: Float32Array, shape: ImageShape, classes: readonly number[], classCount: number): Promise<Float32Array> {
  const map = tf.tidy(() => {
    const x = tf.tensor4d(inputs, [classes.length, shape.height, shape.width, shape.channels]);
    const target = tf.oneHot(tf.tensor1d(Array.from(classes), 'int32'), classCount).toFloat();
    const gradient = tf.grad((input: tfjs.Tensor) => tf.sum(tf.mul(model.apply(input, { training: false }) as tfjs.Tensor, target)))(x);
    return tf.max(tf.abs(gradient), -1);
  });
  try {
    return (await map.data()) as Float32Array;
  } finally {
    map.dispose();
  }
}
