import type * as tfjs from '@tensorflow/tfjs';
import { Type, type TObject } from '@sinclair/typebox';
import type { Tf } from '../core/tf.js';
import type { ArgsOf, ArgsSchema, Definition } from './registry.js';
import { args } from './schema-helpers.js';

/** A training objective: the mean over the batch of the per-example loss, each weighted by `weights` when given. */
export interface LossFunction {
  (yTrue: tfjs.Tensor, yPred: tfjs.Tensor, weights?: tfjs.Tensor): tfjs.Scalar;
}

/** Training objectives (`training.loss`), on the class probabilities the models end with. */
export interface LossDefinition<A extends ArgsSchema = ArgsSchema> extends Definition {
  readonly keras?: string;
  readonly args: A;
  build(args: ArgsOf<A>, tf: Tf): LossFunction;
}

/** Keeps the argument type of the behaviour tied to the schema at the definition site. */
export function defineLoss<A extends TObject>(definition: LossDefinition<A>): LossDefinition<A> {
  return definition;
}

/** Probabilities are clipped away from 0 and 1 before the log, as Keras does (its epsilon). */
const EPSILON = 1e-7;

/**
 * Targets become y (1 - s) + s / classes with label smoothing s. Weighted examples average as Keras
 * does: the sum of weighted losses over the batch size.
 */
export const categoricalCrossentropy = defineLoss({
  type: 'categorical_crossentropy',
  keras: 'CategoricalCrossentropy',
  summary: 'Cross-entropy between one-hot labels and predicted class probabilities.',
  args: args(
    {
      label_smoothing: Type.Number({
        minimum: 0,
        exclusiveMaximum: 1,
        default: 0,
        description: 'mix the one-hot labels with the uniform distribution by this much',
      }),
    },
    { title: 'categorical_crossentropy arguments' },
  ),
  build: (a, tf) => {
    const smoothing = a.label_smoothing;
    return (yTrue, yPred, weights) =>
      tf.tidy(() => {
        const classes = yTrue.shape[yTrue.shape.length - 1]!;
        const targets = smoothing > 0 ? tf.add(tf.mul(yTrue, 1 - smoothing), smoothing / classes) : yTrue;
        const perExample = tf.neg(tf.sum(tf.mul(targets, tf.log(tf.clipByValue(yPred, EPSILON, 1 - EPSILON))), -1));
        return tf.mean(weights ? tf.mul(perExample, weights) : perExample) as tfjs.Scalar;
      });
  },
});

export const lossDefinitions: LossDefinition[] = [categoricalCrossentropy];
