import type * as tfjs from '@tensorflow/tfjs';
import type { TrainingConfig } from '../config/types.js';
import { batchCount, batches, type Batch, type BatchPlan } from '../data/batches.js';
import { setRandomStep } from '../layers/random-layers.js';
import type { FerRegistry } from '../registry/index.js';
import { initialScheduleState } from '../registry/schedules.js';
import type { Tf } from '../core/tf.js';
import type { EpochMetrics } from '../store/run-folder.js';
import { EpochCallbacks } from './callbacks.js';
import { readCheckpoint, restoreCheckpoint, saveCheckpoint, type TrainerState } from './checkpoint.js';
import { evaluate } from './evaluate.js';
import { buildLoss, type LossFunction } from './loss.js';
import { setLearningRate } from './optimizer.js';
import { Stages } from './stages.js';
import { WeightAverage } from './weight-average.js';
import { mixBatch } from '../data/mixing.js';
import type { TestTime } from '../data/test-time.js';

export type { EpochMetrics };
export { evaluate, type Evaluation } from './evaluate.js';

export interface TrainOptions {
  tf: Tf;
  registry: FerRegistry;
  model: tfjs.LayersModel;
  training: TrainingConfig;
  train: BatchPlan;
  validation?: BatchPlan;
  /** Test-time views for the validation metrics after every epoch (evaluation.validation_every_epoch). */
  validationViews?: TestTime;
  /**
   * Test rows evaluated after every epoch for the record only (learning curves of final fits):
   * early stopping and schedules cannot monitor them (the schema allows val_* and training metrics).
   */
  test?: BatchPlan;
  /** Where the per-epoch checkpoint lives; without it nothing is saved and nothing resumes. */
  checkpointDir?: string;
  /**
   * Only the epoch training ends with is checkpointed (a smoke run: its epochs take a second, and a
   * ResNet-18's checkpoint is 128 MB); a kill before it restarts the task from its first epoch.
   */
  checkpointLastEpochOnly?: boolean;
  /** Identifies the run (task, config and data digests): a checkpoint of another run is not resumed. */
  fingerprint?: string;
  /** After each epoch, with every epoch so far (a resumed run's include those of its checkpoint). */
  onEpoch?: (metrics: EpochMetrics, history: readonly EpochMetrics[]) => void | Promise<void>;
  onBatch?: (progress: BatchProgress) => void;
  /** Aborting stops after the current batch; the last epoch's checkpoint stays for a resume. */
  signal?: AbortSignal;
  /**
   * On the native backend with fer's optimizers, run each training step as one TensorFlow function
   * (graph-step.ts); default true. Off, or where it cannot be used, steps run op by op.
   */
  graphSteps?: boolean;
  /** Hears what the trainer has to say once (why training steps run op by op). */
  onNotice?: (message: string) => void;
}

export interface TrainResult {
  history: EpochMetrics[];
  /** The epoch (from 1) the kept weights come from. */
  bestEpoch: number;
  /** Why those weights were kept, one sentence (for the report and MLflow). */
  kept: string;
  /** How the training steps ran: recorded TensorFlow functions (`graph`), op by op (`eager`), or undecided (no runner). */
  steps?: 'graph' | 'eager';
  stoppedEarly: boolean;
  interrupted: boolean;
  /** The epoch (from 1) training resumed after, when it continued from a checkpoint. */
  resumedAfter?: number;
}

/**
 * Trains a model: the stages with their optimizer and schedule (stages.ts), each epoch's steps with
 * clipping, loss and class weights (trainEpoch below), validation after every epoch, the callbacks
 * (early stopping and plugins', callbacks.ts), and a checkpoint after every epoch (weights,
 * optimizer state, trainer state) from which a killed run resumes exactly. Memory stays flat
 * across epochs.
 */
export async function trainModel(options: TrainOptions): Promise<TrainResult> {
  const { tf, model, training, registry } = options;
  const loss = buildLoss(tf, training.loss, registry);
  const fingerprint = options.fingerprint ?? 'unnamed';
  const callbacks = new EpochCallbacks(tf, registry, training);
  const stages = new Stages({ tf, registry, model, training, ...(options.graphSteps !== undefined ? { graphSteps: options.graphSteps } : {}), ...(options.onNotice ? { onNotice: options.onNotice } : {}) });
  // A checkpoint's optimizer state belongs to the stage of its last epoch: enter that one to load it.
  const opened = options.checkpointDir ? readCheckpoint(options.checkpointDir, fingerprint) : { notices: [] };
  for (const notice of opened.notices) options.onNotice?.(notice);
  const saved = opened.checkpoint?.state;
  stages.enter(stages.stageOf(Math.max(0, saved?.epoch ?? 0)));
  const average = training.ema ? new WeightAverage(tf, model, training.ema.decay) : undefined;

  let state: TrainerState = {
    epoch: -1,
    step: 0,
    schedule: initialScheduleState(),
    callbacks: callbacks.initialStates(),
    bestEpoch: -1,
    history: [],
    stopped: false,
    fingerprint,
  };
  let resumedAfter: number | undefined;
  if (opened.checkpoint) {
    const restored = await restoreCheckpoint(tf, opened.checkpoint, model, stages.optimizer);
    if (restored) {
      state = restored.state;
      callbacks.best = restored.best;
      if (average && restored.average) average.restore(restored.average);
      tf.dispose(restored.average ?? []);
      resumedAfter = state.epoch + 1;
      if (state.graphSteps) stages.resumeGraphSteps(state.graphSteps);
    }
  }

  let interrupted = false;
  for (let epoch = state.epoch + 1; epoch < training.epochs && !state.stopped; epoch++) {
    if (stages.stageOf(epoch) !== stages.index) {
      stages.enter(stages.stageOf(epoch));
      state.schedule = initialScheduleState();
    }
    const started = performance.now();
    const totals = await trainEpoch({ tf, model, training, loss, stages, train: options.train, ...(average ? { average } : {}), ...(options.signal ? { signal: options.signal } : {}), ...(options.onBatch ? { onBatch: options.onBatch } : {}) }, epoch, started, state);
    if (totals.interrupted) {
      interrupted = true;
      break;
    }
    // Validation, and the best weights a callback keeps, are the average's when there is one.
    average?.swapIn();
    const metrics = await epochMetrics(options, loss, epoch, started, totals, stages);
    const values = metrics as unknown as Record<string, number | undefined>;
    stages.schedule.endEpoch(values, state.schedule);
    if (callbacks.afterEpoch(epoch, values, state, model)) state.stopped = true;
    average?.swapOut();
    state.epoch = epoch;
    state.history.push(metrics);
    const verdict = stages.verdict();
    if (verdict) state.graphSteps = verdict;
    if (options.checkpointDir && (!options.checkpointLastEpochOnly || state.stopped || epoch === training.epochs - 1)) {
      const averaged = average?.values() ?? null;
      await saveCheckpoint(tf, options.checkpointDir, model, stages.optimizer, state, callbacks.best, averaged);
      tf.dispose(averaged ?? []);
    }
    await options.onEpoch?.(metrics, state.history);
  }

  const best = callbacks.restoreBest(model, state);
  // Without a restored best epoch, the last epoch's weights: averaged, with an average.
  if (average && best === undefined && !interrupted) average.swapIn();
  const kept = keptReason(training, state, best, callbacks.monitorOf());
  const steps = stages.verdict();
  if (average && best === undefined && !interrupted) {
    // The averaged weights stay in the model: drop the raw ones swapIn kept.
    const averaged = average.values();
    average.swapOut();
    model.setWeights(averaged);
    tf.dispose(averaged);
  }
  average?.dispose();
  callbacks.dispose();
  stages.dispose();
  return {
    history: state.history,
    bestEpoch: (best ?? state.epoch) + 1,
    kept,
    ...(steps ? { steps } : {}),
    stoppedEarly: state.stopped && state.epoch + 1 < training.epochs,
    interrupted,
    ...(resumedAfter !== undefined ? { resumedAfter } : {}),
  };
}

/** Which epoch's weights training ends with, and why, in words. */
function keptReason(training: TrainingConfig, state: TrainerState, best: number | undefined, monitor: { name: string; metric: string } | undefined): string {
  const averaged = training.ema ? `, their exponential moving average (decay ${training.ema.decay})` : '';
  if (best !== undefined && monitor) {
    const value = state.history[best]?.[monitor.metric as keyof EpochMetrics];
    return `epoch ${best + 1}${averaged}: the best ${monitor.metric}${typeof value === 'number' ? ` (${value.toFixed(4)})` : ''} of the ${state.history.length} epochs, kept by ${monitor.name}`;
  }
  const reason = state.stopped && state.epoch + 1 < training.epochs ? 'training stopped early there' : 'the last epoch';
  return `epoch ${state.epoch + 1}${averaged}: ${reason} (no callback restores a best epoch)`;
}

/** An epoch's record: the training totals, then loss and accuracy on the validation and test rows. */
async function epochMetrics(
  options: TrainOptions,
  loss: ReturnType<typeof buildLoss>,
  epoch: number,
  started: number,
  totals: Awaited<ReturnType<typeof trainEpoch>>,
  stages: Stages,
): Promise<EpochMetrics> {
  const { tf, model } = options;
  const trainSeconds = (performance.now() - started) / 1000;
  const metrics: EpochMetrics = {
    epoch: epoch + 1,
    loss: totals.lossSum / Math.max(1, totals.seen),
    accuracy: totals.correct / Math.max(1, totals.seen),
    learning_rate: totals.rate,
    seconds: 0,
    images_per_second: totals.seen / trainSeconds,
    ...(stages.staged ? { stage: stages.index + 1 } : {}),
  };
  if (options.validation && options.validation.rows.length > 0) {
    const result = await evaluate(tf, model, options.validation, loss, options.validationViews);
    metrics.val_loss = result.loss;
    metrics.val_accuracy = result.accuracy;
  }
  if (options.test && options.test.rows.length > 0) {
    const result = await evaluate(tf, model, options.test, loss);
    metrics.test_loss = result.loss;
    metrics.test_accuracy = result.accuracy;
  }
  metrics.seconds = (performance.now() - started) / 1000;
  return metrics;
}

export interface BatchProgress {
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
  accuracy: number;
  imagesPerSecond: number;
}

interface EpochTotals {
  /** Sum over the batches of the batch loss times its size. */
  lossSum: number;
  correct: number;
  seen: number;
  /** The rate of the last step. */
  rate: number;
  /** Stopped by the signal before the epoch ended. */
  interrupted: boolean;
}

interface EpochLoop {
  tf: Tf;
  model: tfjs.LayersModel;
  training: TrainingConfig;
  loss: LossFunction;
  stages: Stages;
  train: BatchPlan;
  average?: WeightAverage;
  signal?: AbortSignal;
  onBatch?: (progress: BatchProgress) => void;
}

/** Every tensor of a batch: the step's inputs, in a fixed order, and what is disposed after it. */
function batchTensors(batch: Batch): tfjs.Tensor[] {
  return [batch.x, batch.y, ...(batch.weights ? [batch.weights] : []), ...(batch.mix ? [batch.mix.partner, batch.mix.mask, batch.mix.lambda] : [])];
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
async function trainEpoch(loop: EpochLoop, epoch: number, started: number, state: TrainerState): Promise<EpochTotals> {
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
      tf.dispose([...batchTensors(batch)]);
      return { lossSum, correct, seen, rate, interrupted: true };
    }
    setRandomStep(state.step);
    rate = schedule.rate(stageEpoch, batchIndex, stepsPerEpoch, state.schedule);
    setLearningRate(optimizer, rate);
    const step = () =>
      tf.tidy(() => {
        let hitCount: tfjs.Scalar | undefined;
        // Mixup and cutmix: the batch mixed with its partners, from the draws handed in as inputs.
        const { x, y, weights } = batch.mix ? mixBatch(tf, batch.x, batch.y, batch.weights, batch.mix) : batch;
        const { value, grads } = tf.variableGrads(() => {
          const predictions = model.apply(x, { training: true }) as tfjs.Tensor2D;
          hitCount = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(predictions, -1), tf.argMax(y, -1)), 'float32'))) as tfjs.Scalar;
          const penalties = (model as unknown as { calculateLosses(): tfjs.Scalar[] }).calculateLosses();
          const base = loss(y, predictions, weights);
          return penalties.length > 0 ? (tf.addN([base, ...penalties]) as tfjs.Scalar) : base;
        }, variables);
        optimizer.applyGradients(clipGradients(tf, grads, training.clip));
        loop.average?.update();
        return [value, hitCount!];
      });
    const [lossValue, hits] = (graphSteps ? graphSteps.run([...batchTensors(batch)], step) : step()) as [tfjs.Scalar, tfjs.Scalar];
    const n = batch.rows.length;
    const batchLoss = (await lossValue.data())[0]!;
    if (!Number.isFinite(batchLoss)) {
      // Going on would only train NaNs for the rest of the epochs: stop the task and say why.
      tf.dispose([lossValue, hits, ...batchTensors(batch)]);
      graphSteps?.dispose();
      throw new Error(`training diverged: the loss became ${batchLoss} at epoch ${epoch + 1}, batch ${batchIndex + 1} (learning rate ${rate.toPrecision(3)}); lower the learning rate or clip gradients (training.clip)`);
    }
    lossSum += batchLoss * n;
    correct += (await hits.data())[0]!;
    seen += n;
    tf.dispose([lossValue, hits, ...batchTensors(batch)]);
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
