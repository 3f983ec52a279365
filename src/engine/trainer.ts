import type * as tfjs from '@tensorflow/tfjs';
import type { TrainingConfig } from '../config/types.js';
import type { BatchPlan } from '../data/batches.js';
import type { FerRegistry } from '../registry/index.js';
import { initialScheduleState } from '../registry/schedules.js';
import type { Tf } from '../core/tf.js';
import type { EpochMetrics } from '../store/run-folder.js';
import { EpochCallbacks } from './callbacks.js';
import { loadCheckpoint, readCheckpointState, saveCheckpoint, type TrainerState } from './checkpoint.js';
import { trainEpoch, type BatchProgress } from './epoch.js';
import { evaluate } from './evaluate.js';
import { buildLoss } from './loss.js';
import { Stages } from './stages.js';

export type { EpochMetrics, BatchProgress };
export { evaluate, type Evaluation } from './evaluate.js';

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

/**
 * Trains a model: the stages, optimizer, schedule, clipping, loss and class weights of the training
 * section (stages.ts, epoch.ts), validation after every epoch, the callbacks (early stopping and
 * plugins', callbacks.ts), and a checkpoint after every epoch (weights, optimizer state, trainer
 * state) from which a killed run resumes exactly. Memory stays flat across epochs.
 */
export async function trainModel(options: TrainOptions): Promise<TrainResult> {
  const { tf, model, training, registry } = options;
  const loss = buildLoss(tf, training.loss, registry);
  const fingerprint = options.fingerprint ?? 'unnamed';
  const callbacks = new EpochCallbacks(tf, registry, training);
  const stages = new Stages({ tf, registry, model, training, ...(options.graphSteps !== undefined ? { graphSteps: options.graphSteps } : {}), ...(options.onNotice ? { onNotice: options.onNotice } : {}) });
  // A checkpoint's optimizer state belongs to the stage of its last epoch: enter that one to load it.
  const saved = options.checkpointDir ? readCheckpointState(options.checkpointDir, fingerprint) : undefined;
  stages.enter(stages.stageOf(Math.max(0, saved?.epoch ?? 0)));

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
  if (options.checkpointDir) {
    const restored = await loadCheckpoint(tf, options.checkpointDir, model, stages.optimizer, fingerprint);
    if (restored) {
      state = restored.state;
      callbacks.best = restored.best;
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
    const totals = await trainEpoch({ tf, model, training, loss, stages, train: options.train, ...(options.signal ? { signal: options.signal } : {}), ...(options.onBatch ? { onBatch: options.onBatch } : {}) }, epoch, started, state);
    if (totals.interrupted) {
      interrupted = true;
      break;
    }
    const metrics = await epochMetrics(options, loss, epoch, started, totals, stages);
    const values = metrics as unknown as Record<string, number | undefined>;
    stages.schedule.endEpoch(values, state.schedule);
    if (callbacks.afterEpoch(epoch, values, state, model)) state.stopped = true;
    state.epoch = epoch;
    state.history.push(metrics);
    const verdict = stages.verdict();
    if (verdict) state.graphSteps = verdict;
    if (options.checkpointDir) await saveCheckpoint(tf, options.checkpointDir, model, stages.optimizer, state, callbacks.best);
    await options.onEpoch?.(metrics);
  }

  const best = callbacks.restoreBest(model, state);
  callbacks.dispose();
  stages.dispose();
  return {
    history: state.history,
    bestEpoch: (best ?? state.epoch) + 1,
    stoppedEarly: state.stopped && state.epoch + 1 < training.epochs,
    interrupted,
    ...(resumedAfter !== undefined ? { resumedAfter } : {}),
  };
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
  return metrics;
}
