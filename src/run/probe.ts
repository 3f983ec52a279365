import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileModel } from '../compile/model-builder.js';
import { createAugmenter } from '../data/augment.js';
import { classWeights } from '../data/class-weights.js';
import { classCounts } from '../data/dataset.js';
import { fitPreprocessor } from '../data/preprocess.js';
import { buildLoss } from '../engine/loss.js';
import { evaluate, trainModel } from '../engine/trainer.js';
import type { RunContext } from './execute-task.js';

/** How fast a model trains and evaluates in a worker like the run's: the ground of a run's estimate. */
export interface ModelRate {
  /** Training images per second, steps after the first (which records graphs and warms caches). */
  trainImagesPerSecond: number;
  /** Images per second through evaluation (validation and test rows). */
  evalImagesPerSecond: number;
  /** Once per task: compiling the model, fitting its preprocessing, the first step's recording, saving the model. */
  setupSeconds: number;
  /** Once per epoch besides the steps and evaluation: the checkpoint. */
  epochOverheadSeconds: number;
}

/** At least this long (and MIN_STEPS steps) of timed training per model, at most MAX_STEPS steps. */
const MIN_SECONDS = 3;
const MIN_STEPS = 3;
const MAX_STEPS = 12;

/**
 * Times a few training steps of `modelName` through the trainer itself (the run's batches,
 * augmentation, optimizer and recorded steps), then a few evaluation batches. Nothing is written:
 * no checkpoint, no run folder. The first step is not timed: on the native backend it records the
 * step as a TensorFlow function, which a task does once.
 */
export async function probeModel(context: RunContext, modelName: string): Promise<ModelRate> {
  const { tf, loaded, dataset } = context;
  const config = loaded.config;
  const data = config.data!;
  const batchSize = config.training.batch_size;
  const started = performance.now();
  const train = context.splits.train;
  const rows = train.subarray(0, Math.min(train.length, (MAX_STEPS + 1) * batchSize));
  const preprocessor = fitPreprocessor(data.preprocess, dataset, rows, loaded.registry);
  const model = compileModel(loaded, modelName, { tf, seed: 1 }).model;
  const setupSeconds = (performance.now() - started) / 1000;
  try {
    const stop = new AbortController();
    const stepEnds: number[] = [];
    const options = (trainRows: Int32Array) => ({
      tf,
      registry: loaded.registry,
      model,
      // One stage, no callbacks: a few steps of the first stage's kind are what is timed.
      training: { ...config.training, epochs: 1, stages: [], callbacks: [], early_stopping: null },
      train: {
        dataset,
        rows: trainRows,
        preprocessor,
        batchSize,
        shuffle: true,
        seed: 1,
        augmenter: createAugmenter(data.augment, loaded.registry),
        ...(data.class_weight === 'none' ? {} : { classWeights: classWeights(data.class_weight, classCounts(dataset, trainRows), 1) }),
      },
      graphSteps: config.engine.graph_steps,
    });
    const trainStarted = performance.now();
    await trainModel({
      ...options(rows),
      signal: stop.signal,
      onBatch: () => {
        stepEnds.push(performance.now());
        const timed = stepEnds.length - 1;
        if (timed >= MAX_STEPS || (timed >= MIN_STEPS && (stepEnds.at(-1)! - stepEnds[0]!) / 1000 >= MIN_SECONDS)) stop.abort();
      },
    });
    const timed = stepEnds.length - 1;
    const trainImagesPerSecond = timed > 0 ? (timed * batchSize) / ((stepEnds.at(-1)! - stepEnds[0]!) / 1000) : batchSize / ((stepEnds[0]! - trainStarted) / 1000);
    // The first step records the step function: what it takes beyond an ordinary step, once per task.
    const firstStepExtra = Math.max(0, (stepEnds[0]! - trainStarted) / 1000 - batchSize / trainImagesPerSecond);
    // One more one-step epoch into a scratch checkpoint folder: the time from its step to its end is the checkpoint's.
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'fer-probe-'));
    let epochOverheadSeconds = 0;
    try {
      let lastStep = 0;
      await trainModel({
        ...options(rows.subarray(0, Math.min(rows.length, batchSize))),
        checkpointDir: scratch,
        fingerprint: 'probe',
        onBatch: () => (lastStep = performance.now()),
        onEpoch: () => {
          epochOverheadSeconds = (performance.now() - lastStep) / 1000;
        },
      });
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    const loss = buildLoss(tf, config.training.loss, loaded.registry);
    const evalBatch = Math.max(64, batchSize);
    const evalRows = train.subarray(0, Math.min(train.length, evalBatch * 3));
    const plan = { dataset, preprocessor, batchSize: evalBatch, shuffle: false, seed: 1 };
    await evaluate(tf, model, { ...plan, rows: evalRows.subarray(0, Math.min(evalRows.length, evalBatch)) }, loss);
    const evalStarted = performance.now();
    await evaluate(tf, model, { ...plan, rows: evalRows }, loss);
    const evalImagesPerSecond = evalRows.length / Math.max(1e-6, (performance.now() - evalStarted) / 1000);
    // Saving the trained model at the end costs about what a checkpoint does.
    return { trainImagesPerSecond, evalImagesPerSecond, setupSeconds: setupSeconds + firstStepExtra + epochOverheadSeconds, epochOverheadSeconds };
  } finally {
    model.dispose();
  }
}
