import type { LoadedConfig } from '../config/load.js';
import type { FerConfig } from '../config/types.js';
import type { Dataset } from '../data/dataset.js';
import { sliceDataset } from '../data/slice.js';
import { resolveExperiment } from '../track/sinks/mlflow/settings.js';

/**
 * A smoke run (`fer run --smoke`) is the experiment in miniature, to find what breaks before a
 * long run does: every task, 2 epochs of about 2 batches of at most 4 images, on a slice of each
 * split, then the ensemble, the report and tracking, as in the real run. It is its own experiment
 * (name and tracking experiment with `-smoke`), so its run folder and MLflow runs are apart. Its
 * weights are noise: tasks checkpoint their last epoch only, and no model is logged to tracking.
 */
export const SMOKE_EPOCHS = 2;
const SMOKE_BATCHES = 2;
const SMOKE_BATCH_SIZE = 4;
export const SMOKE_SUFFIX = '-smoke';

/** The config of the smoke run of a config. */
export function smokeLoaded(loaded: LoadedConfig): LoadedConfig {
  const config = loaded.config;
  const training = config.training;
  // Staged training keeps its stages (each is a code path), one epoch each.
  const stages = training.stages.map((s) => ({ ...s, epochs: 1 }));
  const smoke: FerConfig = {
    ...config,
    name: `${config.name}${SMOKE_SUFFIX}`,
    tracking: { ...config.tracking, experiment: `${resolveExperiment({ config: config.tracking, configName: config.name })}${SMOKE_SUFFIX}` },
    training: { ...training, stages, epochs: stages.length > 0 ? stages.length : SMOKE_EPOCHS, batch_size: Math.min(training.batch_size, SMOKE_BATCH_SIZE) },
  };
  return { ...loaded, config: smoke };
}

/** The rows of the smoke run: about two batches per fold's training rows, two batches of test rows. */
export function smokeDataset(config: FerConfig, dataset: Dataset): Dataset {
  const split = config.data!.split;
  const batch = config.training.batch_size;
  const k = config.folds?.k ?? 1;
  let train = Math.ceil((SMOKE_BATCHES * batch * k) / Math.max(1, k - 1));
  const testRows = SMOKE_BATCHES * batch;
  // Test rows carved out of the train split need room there.
  if (split.test_fraction !== null && split.test_fraction !== undefined) train = Math.ceil(train / (1 - split.test_fraction));
  train = Math.max(train, 2 * dataset.classes.length);
  return sliceDataset(dataset, { [split.train]: train, ...(split.test && split.test !== split.train ? { [split.test]: testRows } : {}) });
}
