import path from 'node:path';
import { compileModel, type CompiledModel } from '../compile/model-builder.js';
import type { LoadedConfig } from '../config/load.js';
import { createAugmenter } from '../data/augment.js';
import { classWeights } from '../data/class-weights.js';
import { classCounts, type Dataset } from '../data/dataset.js';
import { assignFolds, foldRows, type FoldAssignment } from '../data/folds.js';
import { fitPreprocessor, type Preprocessor } from '../data/preprocess.js';
import { SealedRows, selectSplits, validationHoldOut, type SplitRows } from '../data/splits.js';
import { testTime } from '../data/test-time.js';
import { buildLoss } from '../engine/loss.js';
import { inputGradientMaps } from '../engine/saliency.js';
import { evaluate, trainModel, type BatchProgress, type EpochMetrics } from '../engine/trainer.js';
import type { Tf } from '../core/tf.js';
import { imageSize } from '../core/image.js';
import { isConfigError } from '../core/diagnostic.js';
import { formatDiagnostics } from '../core/diagnostic-format.js';
import { deriveSeed } from '../core/seed.js';
import { saveModel } from '../store/model-io.js';
import { taskDir, writeAtomic, writePredictions, writeTaskMetrics, writeTaskStatus, type TaskStatus } from '../store/run-folder.js';
import type { Task } from '../store/tasks.js';
import { saliencyImages, writeTaskSaliency } from '../store/task-saliency.js';
import { numericsDifference, readTaskNumerics, writeTaskNumerics, type TaskNumerics } from '../store/task-numerics.js';

/** What every task of a run shares: the config, the data, the splits and the fold assignment. */
export interface RunContext {
  tf: Tf;
  loaded: LoadedConfig;
  dataset: Dataset;
  /** The training rows, and the test rows sealed until the final evaluation. */
  splits: { train: Int32Array; test?: SealedRows };
  /** Without folds, with data.split.validation_fraction: the training rows split into training and validation. */
  holdOut?: { train: Int32Array; validation: Int32Array };
  folds?: FoldAssignment;
  runDir: string;
  configDigest: string;
  dataDigest: string;
  /** A smoke run (smoke.ts): tasks checkpoint their last epoch only. */
  smoke?: boolean;
}

export function createRunContext(tf: Tf, loaded: LoadedConfig, dataset: Dataset, runDir: string, configDigest: string): RunContext {
  const config = loaded.config;
  const selected: SplitRows = selectSplits(dataset, config.data!.split, config.seed);
  const splits = { train: selected.train, ...(selected.test ? { test: new SealedRows(selected.test) } : {}) };
  const holdOut = validationHoldOut(dataset, splits.train, config.data!.split, config.seed, Boolean(config.folds));
  const folds = config.folds
    ? assignFolds(
        splits.train.map((row) => dataset.labels[row]!),
        dataset.classes.length,
        config.folds.k,
        config.folds.strategy,
        config.seed,
      )
    : undefined;
  return { tf, loaded, dataset, splits, ...(holdOut ? { holdOut } : {}), ...(folds ? { folds } : {}), runDir, configDigest, dataDigest: dataset.digest };
}

/** The rows a task trains and validates on. */
export function taskRows(context: RunContext, task: Task): { train: Int32Array; validation: Int32Array } {
  if (task.fold === null || !context.folds) return context.holdOut ?? { train: context.splits.train, validation: new Int32Array(0) };
  return foldRows(context.splits.train, context.folds, task.fold);
}

/**
 * A task's error as the user reads it (in its status and on the terminal): a config problem the
 * compiler found (a shape that does not fit, say) with its file:line:column and code frame, as
 * `fer validate` shows it; anything else by its message.
 */
export function taskErrorText(error: unknown, cwd?: string): string {
  if (isConfigError(error)) return formatDiagnostics(error.diagnostics, { sources: error.sources, ...(cwd ? { cwd } : {}) });
  return error instanceof Error ? error.message : String(error);
}

/**
 * A task's numerics are recorded when it first starts; later (a resume, a retry) the runner gives
 * it the recorded ones, and a difference the runner could not avoid (another backend, oneDNN off)
 * is said, since the task then cannot end bit for bit as it would have.
 */
function recordNumerics(runDir: string, key: string, now: TaskNumerics, notice?: (message: string) => void): void {
  const recorded = readTaskNumerics(runDir, key, now.fingerprint, (why) => notice?.(`${why}: recorded anew`));
  if (!recorded) {
    writeTaskNumerics(runDir, key, now);
    return;
  }
  const difference = numericsDifference(recorded, now);
  if (difference) notice?.(`runs with other numerics than it started with (${difference}): its results may differ in the last digits from an uninterrupted run`);
}

/**
 * The task's saliency maps of the test images the run's saliency picture shows, while the model is
 * in memory: the picture averages them at the end instead of loading every model again.
 */
async function keepSaliency(context: RunContext, key: string, model: CompiledModel['model'], preprocessor: Preprocessor, testRows: Int32Array): Promise<void> {
  const { tf, dataset } = context;
  const chosen = saliencyImages(testRows, Array.from(testRows, (r) => dataset.labels[r]!), dataset.classes.length);
  if (chosen.length === 0) return;
  const size = imageSize(preprocessor.inputShape);
  const images = new Float32Array(chosen.length * size);
  chosen.forEach((c, i) => images.set(dataset.pixels.subarray(c.row * size, (c.row + 1) * size), i * size));
  const labels = chosen.map((c) => c.label);
  const shape = preprocessor.outputShape;
  const maps = await inputGradientMaps(tf, model, preprocessor.apply(images, chosen.length), shape, labels, dataset.classes.length);
  writeTaskSaliency(context.runDir, key, { rows: chosen.map((c) => c.row), labels, height: shape.height, width: shape.width, maps });
}

export interface TaskEvents {
  onEpoch?: (metrics: EpochMetrics) => void;
  onBatch?: (progress: BatchProgress) => void;
  /** Something the trainer says once about the task (why its steps run op by op). */
  onNotice?: (message: string) => void;
}

export interface TaskOutcome {
  state: 'finished' | 'killed';
  history: EpochMetrics[];
  bestEpoch: number;
  /** Why the saved weights are those of bestEpoch. */
  kept?: string;
  resumedAfter?: number;
}

/**
 * Trains one task (a member on a fold) and writes its outputs. Its checkpoint makes it resumable:
 * called again after a crash or a stop, it continues from the last finished epoch and ends exactly
 * as an uninterrupted run would.
 */
export async function executeTask(context: RunContext, task: Task, fingerprint: string, signal: AbortSignal, events: TaskEvents = {}, numerics?: Omit<TaskNumerics, 'fingerprint'>): Promise<TaskOutcome> {
  const { tf, loaded, dataset } = context;
  const config = loaded.config;
  const data = config.data!;
  const dir = taskDir(context.runDir, task.key);
  const started = new Date().toISOString();
  const status = (patch: Partial<TaskStatus>): void =>
    writeTaskStatus(context.runDir, { key: task.key, state: 'running', fingerprint, started, updated: new Date().toISOString(), epochs: 0, ...patch });
  status({});
  if (numerics) recordNumerics(context.runDir, task.key, { fingerprint, ...numerics }, events.onNotice);

  // Everything after the status says `running` is inside the try: whatever fails (a model the
  // compiler rejects too), the task ends `failed` with the reason, never left `running`.
  let model: CompiledModel['model'] | undefined;
  try {
    const rows = taskRows(context, task);
    const preprocessor: Preprocessor = fitPreprocessor(data.preprocess, dataset, rows.train, loaded.registry);
    writeAtomic(path.join(dir, 'preprocess.json'), `${JSON.stringify({ inputShape: preprocessor.inputShape, steps: preprocessor.steps }, null, 2)}\n`);
    const weights = classWeights(data.class_weight, classCounts(dataset, rows.train), task.memberSeed);
    model = compileModel(loaded, task.model, { tf, seed: deriveSeed(task.seed, 'weights') }).model;
    const views = testTime(config.evaluation, loaded.registry);
    const test = context.splits.test;
    const result = await trainModel({
      tf,
      registry: loaded.registry,
      model,
      training: config.training,
      train: {
        dataset,
        rows: rows.train,
        preprocessor,
        batchSize: config.training.batch_size,
        shuffle: true,
        seed: task.seed,
        augmenter: createAugmenter(data.augment, loaded.registry),
        ...(data.class_weight === 'none' ? {} : { classWeights: weights }),
      },
      ...(rows.validation.length > 0
        ? { validation: { dataset, rows: rows.validation, preprocessor, batchSize: Math.max(64, config.training.batch_size), shuffle: false, seed: task.seed } }
        : {}),
      ...(config.evaluation.validation_every_epoch ? { validationViews: views } : {}),
      // Opted in (evaluation.test_curve), a fit without validation rows records its test accuracy
      // per epoch: only recorded, nothing monitors test_* (the schema's monitors are val_* and training metrics).
      ...(config.evaluation.test_curve && rows.validation.length === 0 && test && test.length > 0
        ? { test: { dataset, rows: test.open('test curve'), preprocessor, batchSize: 256, shuffle: false, seed: task.seed } }
        : {}),
      checkpointDir: path.join(dir, 'checkpoint'),
      ...(context.smoke ? { checkpointLastEpochOnly: true } : {}),
      fingerprint,
      signal,
      graphSteps: config.engine.graph_steps,
      ...(events.onNotice ? { onNotice: events.onNotice } : {}),
      // Every epoch so far, a resumed run's earlier ones included: the runner journals from this
      // file the epochs a kill kept from it, before the epoch it is told of (run/run-tracking.ts).
      onEpoch: (metrics, history) => {
        writeTaskMetrics(dir, history);
        status({ epochs: metrics.epoch });
        events.onEpoch?.(metrics);
      },
      ...(events.onBatch ? { onBatch: events.onBatch } : {}),
    });
    // A resumed run's history starts with the epochs of its checkpoint.
    writeTaskMetrics(dir, result.history);
    if (result.interrupted) {
      status({ state: 'killed', epochs: result.history.length });
      return { state: 'killed', history: result.history, bestEpoch: result.bestEpoch, kept: result.kept, ...(result.resumedAfter ? { resumedAfter: result.resumedAfter } : {}) };
    }
    await saveModel(tf, model, path.join(dir, 'model'));
    const loss = buildLoss(tf, config.training.loss, loaded.registry);
    const plan = { dataset, preprocessor, batchSize: 128, shuffle: false, seed: task.seed };
    // The final predictions, with the test-time views when the config has them (and, beside
    // them, the plain ones: predictions.*.plain.csv, so the views' gain can be measured).
    const predict = async (split: 'validation' | 'test', splitRows: Int32Array): Promise<{ accuracy: number; plain?: number }> => {
      const evaluation = await evaluate(tf, model!, { ...plan, rows: splitRows }, loss, views);
      const labels = Array.from(splitRows, (r) => dataset.labels[r]!);
      writePredictions(path.join(dir, `predictions.${split}.csv`), splitRows, labels, evaluation.probabilities, dataset.classes);
      if (evaluation.plain) writePredictions(path.join(dir, `predictions.${split}.plain.csv`), splitRows, labels, evaluation.plain.probabilities, dataset.classes);
      return { accuracy: evaluation.accuracy, ...(evaluation.plain ? { plain: evaluation.plain.accuracy } : {}) };
    };
    const validation = rows.validation.length > 0 ? await predict('validation', rows.validation) : undefined;
    const testRows = test && test.length > 0 ? test.open('final evaluation') : undefined;
    const tested = testRows ? await predict('test', testRows) : undefined;
    if (testRows) await keepSaliency(context, task.key, model, preprocessor, testRows);
    const seconds = result.history.reduce((s, m) => s + m.seconds, 0);
    status({
      state: 'finished',
      epochs: result.history.length,
      bestEpoch: result.bestEpoch,
      kept: result.kept,
      summary: {
        ...(validation ? { val_accuracy: validation.accuracy } : {}),
        ...(tested ? { test_accuracy: tested.accuracy } : {}),
        ...(validation?.plain !== undefined ? { val_accuracy_plain: validation.plain } : {}),
        ...(tested?.plain !== undefined ? { test_accuracy_plain: tested.plain } : {}),
        seconds,
      },
    });
    return { state: 'finished', history: result.history, bestEpoch: result.bestEpoch, kept: result.kept, ...(result.resumedAfter ? { resumedAfter: result.resumedAfter } : {}) };
  } catch (error) {
    status({ state: 'failed', error: taskErrorText(error) });
    throw error;
  } finally {
    model?.dispose();
  }
}
