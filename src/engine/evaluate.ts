import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../core/tf.js';
import { batches, type BatchPlan } from '../data/batches.js';
import type { LossFunction } from './loss.js';

export interface Evaluation {
  loss: number;
  accuracy: number;
  /** Class probabilities, rows x classes, in the plan's row order. */
  probabilities: Float32Array;
}

/** Loss (unweighted) and accuracy of a model on some rows, in inference mode, with the probabilities. */
export async function evaluate(tf: Tf, model: tfjs.LayersModel, plan: BatchPlan, loss: LossFunction): Promise<Evaluation> {
  const classes = plan.dataset.classes.length;
  const probabilities = new Float32Array(plan.rows.length * classes);
  let lossSum = 0;
  let correct = 0;
  let offset = 0;
  for (const batch of batches(tf, { ...plan, shuffle: false, augmenter: undefined, classWeights: undefined }, 0)) {
    const [l, c, p] = tf.tidy(() => {
      const predictions = model.apply(batch.x, { training: false }) as tfjs.Tensor2D;
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(predictions, -1), tf.argMax(batch.y, -1)), 'float32'));
      return [loss(batch.y, predictions), hits, predictions];
    });
    lossSum += (await l.data())[0]! * batch.rows.length;
    correct += (await c.data())[0]!;
    probabilities.set(await p.data(), offset);
    offset += batch.rows.length * classes;
    tf.dispose([l, c, p, batch.x, batch.y]);
  }
  const n = Math.max(1, plan.rows.length);
  return { loss: lossSum / n, accuracy: correct / n, probabilities };
}
