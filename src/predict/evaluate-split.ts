import type { Progress } from '../core/progress.js';
import { didYouMean } from '../core/suggest.js';
import { FerError } from '../core/errors.js';
import { imageSize, rowsOfSplit } from '../data/dataset.js';
import { loadDataset } from '../data/load.js';
import { computeMetrics, type Metrics } from '../ensemble/metrics.js';
import type { EnsemblePrediction, SavedEnsemble } from './saved-ensemble.js';

/** A split of the run's data predicted by its saved ensemble, and how well. */
export interface SplitEvaluation {
  split: string;
  classes: string[];
  /** The split's rows (dataset order) and their labels. */
  rows: Int32Array;
  labels: Uint8Array;
  prediction: EnsemblePrediction;
  ensemble: Metrics;
  members: { name: string; model: string; metrics: Metrics }[];
}

/**
 * Predicts a split of the run's data (as its config loads it) with the saved models: for a split
 * the run has no saved predictions of, or to check the saved models against the saved predictions.
 */
export async function evaluateSplit(ensemble: SavedEnsemble, split: string, options: { progress?: Progress } = {}): Promise<SplitEvaluation> {
  const config = ensemble.run.config;
  const { dataset } = await loadDataset({ data: config.data!, seed: config.seed });
  const rows = rowsOfSplit(dataset, split);
  if (rows.length === 0) {
    const close = didYouMean(split, dataset.splitNames);
    throw new FerError(`the data has no split \`${split}\`; its splits are ${dataset.splitNames.join(', ')}`, close);
  }
  if (dataset.classes.join() !== ensemble.classes.join()) {
    throw new FerError(`the data's classes (${dataset.classes.join(', ')}) are not the ones the models predict (${ensemble.classes.join(', ')})`);
  }
  const size = imageSize(dataset.image);
  const pixels = new Uint8Array(rows.length * size);
  rows.forEach((row, i) => pixels.set(dataset.pixels.subarray(row * size, (row + 1) * size), i * size));
  const labels = Uint8Array.from(rows, (row) => dataset.labels[row]!);
  const prediction = await ensemble.predict(pixels, options);
  return {
    split,
    classes: dataset.classes,
    rows,
    labels,
    prediction,
    ensemble: computeMetrics(prediction.probabilities, labels, dataset.classes),
    members: ensemble.members.map((m, i) => ({ name: m.member, model: m.model, metrics: computeMetrics(prediction.members[i]!, labels, dataset.classes) })),
  };
}
