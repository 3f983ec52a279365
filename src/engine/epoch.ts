import type * as tfjs from '@tensorflow/tfjs';
import type { TrainingConfig } from '../config/types.js';
import type { Tf } from '../core/tf.js';
import { batchCount, batches, type Batch, type BatchPlan } from '../data/batches.js';
import { setRandomStep } from '../layers/random-layers.js';
import type { TrainerState } from './checkpoint.js';
import type { LossFunction } from './loss.js';
import { setLearningRate } from './optimizer.js';
import type { Stages } from './stages.js';

export interface BatchProgress {
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
  accuracy: number;
  imagesPerSecond: number;
}

export interface EpochTotals {
  /** Sum over the batches of the batch loss times its size. */
  lossSum: number;
  correct: number;
  seen: number;
  /** The rate of the last step. */
  rate: number;
  /** Stopped by the signal before the epoch ended. */
  interrupted: boolean;
}

export interface EpochLoop {
  tf: Tf;
  model: tfjs.LayersModel;
  training: TrainingConfig;
  loss: LossFunction;
  stages: Stages;
  train: BatchPlan;
  signal?: AbortSignal;
  onBatch?: (progress: BatchProgress) => void;
}

function clipGradients(tf: Tf, grads: tfjs.NamedTensorMap, clip: TrainingConfig['clip']): tfjs.NamedTensorMap {
  if (!clip) return grads;
  let out = grads;
  if (clip.value !== undefined) {
    const value = clip.value;
    out = Object.fromEntries(Object.entries(out).map(([k, g]) => [k, tf.clipByValue(g, -value, value)]));
  }
  if (clip.norm !== undefined) {
    const squares = Object.values(out).map((g) => tf.sum(tf.square(g)));
    const norm = tf.sqrt(tf.addN(squares));
    const scale = tf.minimum(1, tf.div(clip.norm, tf.maximum(norm, 1e-12)));
    out = Object.fromEntries(Object.entries(out).map(([k, g]) => [k, tf.mul(g, scale)]));
  }
  return out;
}

/**
 * One epoch's training steps: the stage's rate for each step, the step itself (recorded as one
 * TensorFlow function when the stage has a runner: nothing in it may do JS work), a stop on a loss
 * that is no longer finite, progress after each batch. Every batch's tensors are disposed.
 */
export async function trainEpoch(loop: EpochLoop, epoch: number, started: number, state: TrainerState): Promise<EpochTotals> {
  const { tf, model, training, loss, stages } = loop;
  const stageEpoch = stages.epochInStage(epoch);
  const stepsPerEpoch = batchCount(loop.train.rows.length, loop.train.batchSize);
  const { optimizer, schedule, variables, graphSteps } = stages;
  let lossSum = 0;
  let correct = 0;
  let seen = 0;
  let batchIndex = 0;
  let rate = stages.baseRate;
  for (const batch of batches(tf, loop.train, epoch) as Generator<Batch>) {
    if (loop.signal?.aborted) {
      tf.dispose([batch.x, batch.y, ...(batch.weights ? [batch.weights] : [])]);
      return { lossSum, correct, seen, rate, interrupted: true };
    }
    setRandomStep(state.step);
    rate = schedule.rate(stageEpoch, batchIndex, stepsPerEpoch, state.schedule);
    setLearningRate(optimizer, rate);
    const step = () =>
      tf.tidy(() => {
        let hitCount: tfjs.Scalar | undefined;
        const { value, grads } = tf.variableGrads(() => {
          const predictions = model.apply(batch.x, { training: true }) as tfjs.Tensor2D;
          hitCount = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(predictions, -1), tf.argMax(batch.y, -1)), 'float32'))) as tfjs.Scalar;
          const penalties = (model as unknown as { calculateLosses(): tfjs.Scalar[] }).calculateLosses();
          const base = loss(batch.y, predictions, batch.weights);
          return penalties.length > 0 ? (tf.addN([base, ...penalties]) as tfjs.Scalar) : base;
        }, variables);
        optimizer.applyGradients(clipGradients(tf, grads, training.clip));
        return [value, hitCount!];
      });
    const [lossValue, hits] = (graphSteps ? graphSteps.run([batch.x, batch.y, ...(batch.weights ? [batch.weights] : [])], step) : step()) as [tfjs.Scalar, tfjs.Scalar];
    const n = batch.rows.length;
    const batchLoss = (await lossValue.data())[0]!;
    if (!Number.isFinite(batchLoss)) {
      // Going on would only train NaNs for the rest of the epochs: stop the task and say why.
      tf.dispose([lossValue, hits, batch.x, batch.y, ...(batch.weights ? [batch.weights] : [])]);
      graphSteps?.dispose();
      throw new Error(`training diverged: the loss became ${batchLoss} at epoch ${epoch + 1}, batch ${batchIndex + 1} (learning rate ${rate.toPrecision(3)}); lower the learning rate or clip gradients (training.clip)`);
    }
    lossSum += batchLoss * n;
    correct += (await hits.data())[0]!;
    seen += n;
    tf.dispose([lossValue, hits, batch.x, batch.y, ...(batch.weights ? [batch.weights] : [])]);
    state.step++;
    batchIndex++;
    // tfjs-node's data() resolves at once, so the loop above only ever yields to microtasks;
    // a turn of the event loop lets signals, IPC messages (stop) and progress writes through.
    await new Promise<void>((resolve) => setImmediate(resolve));
    loop.onBatch?.({
      epoch: epoch + 1,
      batch: batchIndex,
      batches: stepsPerEpoch,
      loss: lossSum / seen,
      accuracy: correct / seen,
      imagesPerSecond: seen / ((performance.now() - started) / 1000),
    });
  }
  return { lossSum, correct, seen, rate, interrupted: false };
}
