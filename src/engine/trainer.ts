import type * as tfjs from '@tensorflow/tfjs';
import { matchesAny } from '../core/patterns.js';
import type { ItemSpec, TrainingConfig } from '../config/types.js';
import { batchCount, batches, type Batch, type BatchPlan } from '../data/batches.js';
import type { FerRegistry } from '../registry/index.js';
import type { Tf } from '../core/tf.js';
import { loadCheckpoint, readCheckpointState, saveCheckpoint, type TrainerState } from './checkpoint.js';
import type { EpochMetrics } from '../store/run-folder.js';
import { GraphStepRunner, graphStepsAvailable } from '../backend/native/graph-step.js';
import { buildLoss, type LossFunction } from './loss.js';
import { buildOptimizer, setLearningRate } from './optimizer.js';
import { setRandomStep } from '../layers/random-layers.js';
import { buildSchedule, initialScheduleState } from './schedules.js';

export type { EpochMetrics };

export interface BatchProgress {
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
  accuracy: number;
  imagesPerSecond: number;
}

export interface TrainOptions {
  tf: Tf;
  registry: FerRegistry;
  model: tfjs.LayersModel;
  training: TrainingConfig;
  train: BatchPlan;
  validation?: BatchPlan;
  /**
   * Test rows evaluated after every epoch for the record only (learning curves of final fits):
   * early stopping and schedules cannot monitor them (the schema allows val_* and training metrics).
   */
  test?: BatchPlan;
  /** Where the per-epoch checkpoint lives; without it nothing is saved and nothing resumes. */
  checkpointDir?: string;
  /** Identifies the run (task, config and data digests): a checkpoint of another run is not resumed. */
  fingerprint?: string;
  onEpoch?: (metrics: EpochMetrics) => void | Promise<void>;
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
  stoppedEarly: boolean;
  interrupted: boolean;
  /** The epoch (from 1) training resumed after, when it continued from a checkpoint. */
  resumedAfter?: number;
}

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

function monitorValue(metrics: EpochMetrics, monitor: string): number | undefined {
  return (metrics as unknown as Record<string, number | undefined>)[monitor];
}

/**
 * Trains a model: the optimizer, schedule, clipping, label smoothing and class weights of the
 * training section, validation after every epoch, early stopping, and a checkpoint after every
 * epoch (weights, optimizer state, trainer state) from which a killed run resumes. Every batch's
 * tensors are disposed: memory stays flat across epochs.
 */
export async function trainModel(options: TrainOptions): Promise<TrainResult> {
  const { tf, model, training } = options;
  const loss = buildLoss(tf, training.loss);
  const early = training.early_stopping;
  const fingerprint = options.fingerprint ?? 'unnamed';

  // Stages (training.stages): each freezes its layers on top of the model's own and starts a fresh
  // optimizer at its own rate, as recompiling does in Keras; without stages there is one.
  const staged = (training.stages ?? []).length > 0;
  const stages = staged ? training.stages : [{ epochs: training.epochs, frozen: [], learning_rate: null }];
  const firstEpoch = stages.map((_, i) => stages.slice(0, i).reduce((sum, s) => sum + s.epochs, 0));
  const stageOf = (epoch: number) => Math.max(0, firstEpoch.findLastIndex((start) => epoch >= start));
  const alwaysFrozen = new Set(model.layers.filter((l) => !l.trainable));
  let stageIndex = -1;
  let optimizer!: ReturnType<typeof buildOptimizer>['optimizer'];
  let baseRate = 0;
  let schedule!: ReturnType<typeof buildSchedule>;
  let variables: tfjs.Variable[] = [];
  let graphSteps: GraphStepRunner | undefined;
  // Carried across stages and from a checkpoint: whether the steps could be recorded was decided once.
  let graphVerdict: 'graph' | 'eager' | undefined;
  // A recorded step holds this stage's optimizer and weights: a new stage records anew.
  const startGraphSteps = () => {
    graphVerdict = graphSteps?.verdict ?? graphVerdict;
    graphSteps?.dispose();
    graphSteps = undefined;
    const preparable = optimizer as unknown as { prepare?: (variables: readonly tfjs.Variable[]) => void };
    if (options.graphSteps !== false && graphStepsAvailable(tf) && typeof preparable.prepare === 'function') {
      const stageVariables = variables;
      graphSteps = new GraphStepRunner(tf, {
        prepare: () => preparable.prepare!(stageVariables),
        ...(graphVerdict ? { verdict: graphVerdict } : {}),
        onFallback: (reason) => options.onNotice?.(`training steps run op by op from here on: ${reason}`),
      });
    }
  };
  const enterStage = (index: number) => {
    const stage = stages[index]!;
    stageIndex = index;
    for (const layer of model.layers) layer.trainable = !alwaysFrozen.has(layer) && !matchesAny(stage.frozen ?? [], layer.name);
    optimizer?.dispose();
    const spec = stage.learning_rate ? withLearningRate(training.optimizer, stage.learning_rate) : training.optimizer;
    ({ optimizer, baseRate } = buildOptimizer(tf, options.registry, spec));
    schedule = buildSchedule(training.schedule, baseRate, stage.epochs);
    variables = model.trainableWeights.map((w) => w.read() as tfjs.Variable);
    startGraphSteps();
  };
  // A checkpoint's optimizer state belongs to the stage of its last epoch: enter that one to load it.
  const saved = options.checkpointDir ? readCheckpointState(options.checkpointDir, fingerprint) : undefined;
  enterStage(stageOf(Math.max(0, saved?.epoch ?? 0)));

  let state: TrainerState = {
    epoch: -1,
    step: 0,
    schedule: initialScheduleState(),
    early: { best: null, bestEpoch: -1, wait: 0 },
    history: [],
    stopped: false,
    fingerprint,
  };
  let best: tfjs.Tensor[] | null = null;
  let resumedAfter: number | undefined;
  if (options.checkpointDir) {
    const restored = await loadCheckpoint(tf, options.checkpointDir, model, optimizer, fingerprint);
    if (restored) {
      state = restored.state;
      best = restored.best;
      resumedAfter = state.epoch + 1;
      if (state.graphSteps) {
        graphVerdict = state.graphSteps;
        startGraphSteps();
      }
    }
  }

  const stepsPerEpoch = batchCount(options.train.rows.length, options.train.batchSize);
  let interrupted = false;
  for (let epoch = state.epoch + 1; epoch < training.epochs && !state.stopped; epoch++) {
    if (stageOf(epoch) !== stageIndex) {
      enterStage(stageOf(epoch));
      state.schedule = initialScheduleState();
    }
    const stageEpoch = epoch - firstEpoch[stageIndex]!;
    const started = performance.now();
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    let batchIndex = 0;
    let rate = baseRate;
    for (const batch of batches(tf, options.train, epoch) as Generator<Batch>) {
      if (options.signal?.aborted) {
        tf.dispose([batch.x, batch.y, ...(batch.weights ? [batch.weights] : [])]);
        interrupted = true;
        break;
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
      options.onBatch?.({
        epoch: epoch + 1,
        batch: batchIndex,
        batches: stepsPerEpoch,
        loss: lossSum / seen,
        accuracy: correct / seen,
        imagesPerSecond: seen / ((performance.now() - started) / 1000),
      });
    }
    if (interrupted) break;
    const trainSeconds = (performance.now() - started) / 1000;
    const metrics: EpochMetrics = {
      epoch: epoch + 1,
      loss: lossSum / Math.max(1, seen),
      accuracy: correct / Math.max(1, seen),
      learning_rate: rate,
      seconds: 0,
      images_per_second: seen / trainSeconds,
      ...(staged ? { stage: stageIndex + 1 } : {}),
    };
    if (options.validation && options.validation.rows.length > 0) {
      const result = await evaluate(tf, model, options.validation, loss);
      metrics.val_loss = result.loss;
      metrics.val_accuracy = result.accuracy;
    }
    if (options.test && options.test.rows.length > 0) {
      const result = await evaluate(tf, model, options.test, loss);
      metrics.test_loss = result.loss;
      metrics.test_accuracy = result.accuracy;
    }
    metrics.seconds = (performance.now() - started) / 1000;
    schedule.endEpoch(metrics as unknown as Record<string, number | undefined>, state.schedule);

    if (early) {
      const value = monitorValue(metrics, early.monitor);
      const lower = !early.monitor.includes('accuracy');
      if (value !== undefined) {
        const previous = state.early.best;
        const improved = previous === null || (lower ? value < previous - early.min_delta : value > previous + early.min_delta);
        if (improved) {
          state.early = { best: value, bestEpoch: epoch, wait: 0 };
          if (early.restore_best) {
            tf.dispose(best ?? []);
            best = model.getWeights().map((w) => tf.keep(w.clone()));
          }
        } else if (++state.early.wait >= early.patience) state.stopped = true;
      }
    }
    state.epoch = epoch;
    state.history.push(metrics);
    const verdict = graphSteps?.verdict ?? graphVerdict;
    if (verdict) state.graphSteps = verdict;
    if (options.checkpointDir) await saveCheckpoint(tf, options.checkpointDir, model, optimizer, state, best);
    await options.onEpoch?.(metrics);
  }

  let bestEpoch = state.epoch + 1;
  if (early?.restore_best && best && state.early.bestEpoch >= 0) {
    model.setWeights(best);
    bestEpoch = state.early.bestEpoch + 1;
  }
  tf.dispose(best ?? []);
  graphSteps?.dispose();
  optimizer.dispose();
  return {
    history: state.history,
    bestEpoch,
    stoppedEarly: state.stopped && state.epoch + 1 < training.epochs,
    interrupted,
    ...(resumedAfter !== undefined ? { resumedAfter } : {}),
  };
}

/** The optimizer spec with another learning rate (`{adam: {...}}` or a bare name). */
function withLearningRate(spec: ItemSpec, learningRate: number): ItemSpec {
  if (typeof spec === 'string') return { [spec]: { learning_rate: learningRate } } as ItemSpec;
  const [type, args] = Object.entries(spec)[0]!;
  return { [type]: { ...((args as Record<string, unknown> | null) ?? {}), learning_rate: learningRate } } as ItemSpec;
}
