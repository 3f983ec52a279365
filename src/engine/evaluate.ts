import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../core/tf.js';
import { batches, type BatchPlan } from '../data/batches.js';
import type { TestTime } from '../data/test-time.js';
import type { LossFunction } from './loss.js';

export interface Evaluation {
  loss: number;
  accuracy: number;
  /** Class probabilities, rows x classes, in the plan's row order (averaged over the test-time views, when given). */
  probabilities: Float32Array;
  /** With test-time views: the same figures from the image alone, so the views' gain is visible. */
  plain?: Omit<Evaluation, 'plain'>;
}

/**
 * Loss (unweighted) and accuracy of a model on some rows, in inference mode, with the
 * probabilities; with active test-time views (data/test-time.ts), from their averaged
 * probabilities, and the plain figures beside them.
 */
export async function evaluate(tf: Tf, model: tfjs.LayersModel, plan: BatchPlan, loss: LossFunction, testTime?: TestTime): Promise<Evaluation> {
  const views = testTime?.active ? testTime : undefined;
  const classes = plan.dataset.classes.length;
  const totals = (views ? [0, 1] : [0]).map(() => ({ lossSum: 0, correct: 0, probabilities: new Float32Array(plan.rows.length * classes) }));
  let offset = 0;
  for (const batch of batches(tf, { ...plan, shuffle: false, augmenter: undefined, classWeights: undefined }, 0)) {
    const predict = (x: tfjs.Tensor4D) => model.apply(x, { training: false }) as tfjs.Tensor2D;
    const outputs = tf.tidy(() => {
      const plain = predict(batch.x);
      const predictions = views ? [views.predict(tf, batch.x, predict), plain] : [plain];
      return predictions.flatMap((p) => [loss(batch.y, p), tf.sum(tf.cast(tf.equal(tf.argMax(p, -1), tf.argMax(batch.y, -1)), 'float32')), p]);
    });
    for (let k = 0; k < totals.length; k++) {
      const [l, c, p] = outputs.slice(3 * k, 3 * k + 3) as [tfjs.Scalar, tfjs.Scalar, tfjs.Tensor];
      totals[k]!.lossSum += (await l.data())[0]! * batch.rows.length;
      totals[k]!.correct += (await c.data())[0]!;
      totals[k]!.probabilities.set(await p.data(), offset);
    }
    offset += batch.rows.length * classes;
    tf.dispose([...outputs, batch.x, batch.y]);
  }
  const n = Math.max(1, plan.rows.length);
  const [main, plain] = totals.map((t) => ({ loss: t.lossSum / n, accuracy: t.correct / n, probabilities: t.probabilities }));
  return { ...main!, ...(plain ? { plain } : {}) };
}
