import type * as tfjs from '@tensorflow/tfjs';
import { startEngine, type BackendRequest } from '../backend/backend.js';
import { compileModel } from '../compile/model-builder.js';
import type { LoadedConfig } from '../config/load.js';
import { rowsOfSplit } from '../data/dataset.js';
import { loadDataset } from '../data/load.js';
import { buildLoss } from '../engine/loss.js';
import { buildOptimizer } from '../engine/optimizer.js';
import { expandTasks } from '../store/tasks.js';

/**
 * How long a trial of the base experiment takes, estimated without training it: the backend's
 * images per second for the base model, measured on a few training steps with random inputs, times
 * the images a trial trains on (each task's training rows for every epoch). Evaluation, data
 * preparation and process start are not counted, and searched values (width, epochs) change it:
 * the estimate is for the base experiment, a first order of magnitude.
 */
export interface TrialEstimate {
  backend: string;
  imagesPerSecond: number;
  imagesPerTrial: number;
  seconds: number;
}

const WARMUP_STEPS = 2;
const TIMED_STEPS = 5;

export async function estimateTrial(base: LoadedConfig, backend?: BackendRequest): Promise<TrialEstimate> {
  const config = base.config;
  const engine = await startEngine(backend ?? config.engine.backend, { threads: config.engine.threads ?? undefined });
  const tf = engine.tf;
  const tasks = expandTasks(config);
  const { dataset } = await loadDataset({ data: config.data!, seed: config.seed, registry: base.registry });
  const trainRows = rowsOfSplit(dataset, config.data!.split.train).length;
  const k = config.folds?.k ?? 0;
  const imagesPerTrial = tasks.reduce((sum, t) => sum + (t.fold === null || k < 2 ? trainRows : Math.round((trainRows * (k - 1)) / k)), 0) * config.training.epochs;

  const model = compileModel(base, tasks[0]!.model, { tf, seed: config.seed });
  const { optimizer } = buildOptimizer(tf, base.registry, config.training.optimizer);
  const loss = buildLoss(tf, config.training.loss, base.registry);
  const batch = config.training.batch_size;
  const classes = model.model.outputs[0]!.shape[1] ?? dataset.classes.length;
  const x = tf.randomNormal([batch, ...model.inputShape]);
  const y = tf.oneHot(tf.randomUniform([batch], 0, classes, 'int32') as tfjs.Tensor1D, classes);
  const step = () => {
    const value = optimizer.minimize(() => loss(y, model.model.apply(x, { training: true }) as tfjs.Tensor), true);
    value?.dataSync();
    value?.dispose();
  };
  for (let i = 0; i < WARMUP_STEPS; i++) step();
  const started = performance.now();
  for (let i = 0; i < TIMED_STEPS; i++) step();
  const seconds = (performance.now() - started) / 1000;
  tf.dispose([x, y]);
  model.model.dispose();
  const imagesPerSecond = (TIMED_STEPS * batch) / seconds;
  return { backend: engine.backend, imagesPerSecond, imagesPerTrial, seconds: imagesPerTrial / imagesPerSecond };
}
