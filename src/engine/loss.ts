import type * as tfjs from '@tensorflow/tfjs';
import type { ItemSpec } from '../registry/schema-helpers.js';
import type { Tf } from '../core/tf.js';

/** Probabilities are clipped away from 0 and 1 before the log, as Keras does (its epsilon). */
const EPSILON = 1e-7;

export interface LossFunction {
  /** Mean over the batch of the per-example loss, each weighted by `weights` when given. */
  (yTrue: tfjs.Tensor, yPred: tfjs.Tensor, weights?: tfjs.Tensor): tfjs.Scalar;
}

/**
 * Categorical cross-entropy on probabilities (the models end in softmax), with label smoothing:
 * targets become y (1 - s) + s / classes. Weighted examples average as Keras does: the sum of
 * weighted losses over the batch size.
 */
export function buildLoss(tf: Tf, spec: ItemSpec): LossFunction {
  const [type, args] = typeof spec === 'string' ? [spec, {}] : (Object.entries(spec)[0] ?? ['', {}]);
  if (type !== 'categorical_crossentropy') throw new Error(`unknown loss \`${type}\``);
  const smoothing = ((args ?? {}) as { label_smoothing?: number }).label_smoothing ?? 0;
  return (yTrue, yPred, weights) =>
    tf.tidy(() => {
      const classes = yTrue.shape[yTrue.shape.length - 1]!;
      const targets = smoothing > 0 ? tf.add(tf.mul(yTrue, 1 - smoothing), smoothing / classes) : yTrue;
      const perExample = tf.neg(tf.sum(tf.mul(targets, tf.log(tf.clipByValue(yPred, EPSILON, 1 - EPSILON))), -1));
      return tf.mean(weights ? tf.mul(perExample, weights) : perExample) as tfjs.Scalar;
    });
}
