import { existsSync } from 'node:fs';
import path from 'node:path';
import { classNames as modelClasses } from '../config/shape.js';
import type { FerConfig } from '../config/types.js';
import type { Dataset } from '../data/dataset.js';
import { argmax, computeMetrics } from '../ensemble/metrics.js';
import { confusionSvg } from '../pictures/confusion.js';
import { learningCurvesSvg, type CurveSeries } from '../pictures/curves.js';
import { imageGridSvg, type GridRow } from '../pictures/image-grid.js';
import { writePicture, type PictureFile } from '../pictures/picture-file.js';
import { readJson, readPredictions, taskDir, type EpochMetrics } from '../store/run-folder.js';
import type { Task } from '../store/tasks.js';

/**
 * The pictures of a finished run, drawn from what its folder holds (no model is loaded): the
 * learning curves of every task, the ensemble's most confident mistakes per class (from its test
 * predictions, with the images from the data), and each fold task's confusion matrix from its
 * out-of-fold predictions. Each as SVG and PNG. Saliency maps need the models: predict/ draws them.
 */
export const PICTURES_DIR = 'pictures';
/** Mistakes shown per class. */
const MISTAKES_PER_CLASS = 6;

export function drawRunPictures(runDir: string, config: FerConfig, dataset: Dataset, tasks: readonly Task[]): PictureFile[] {
  const classes = modelClasses(config);
  const out: PictureFile[] = [];
  const dir = path.join(runDir, PICTURES_DIR);

  const series: CurveSeries[] = tasks.flatMap((t) => {
    const history = readJson<EpochMetrics[]>(path.join(taskDir(runDir, t.key), 'metrics.json'));
    return history && history.length > 0 ? [{ name: t.key, points: history }] : [];
  });
  if (series.length > 0) out.push(writePicture(path.join(dir, 'learning-curves'), learningCurvesSvg(series, `${config.name}: learning curves of ${series.length} task${series.length === 1 ? '' : 's'}`), 'parent', 'learning-curves'));

  const mistakes = mistakesGrid(runDir, config, dataset, classes);
  if (mistakes) out.push(writePicture(path.join(dir, 'mistakes'), mistakes, 'parent', 'mistakes'));

  for (const task of tasks) {
    if (task.fold === null) continue;
    const oof = readPredictions(path.join(taskDir(runDir, task.key), 'predictions.validation.csv'), classes.length);
    if (!oof || oof.labels.length === 0) continue;
    const m = computeMetrics(oof.probabilities, oof.labels, classes);
    const svg = confusionSvg(m.confusion, classes, `${task.key}: validation accuracy ${(m.accuracy * 100).toFixed(1)}%`, `fold ${task.fold}: its ${m.rows} out-of-fold images; cells: share of the row, count`);
    out.push(writePicture(path.join(taskDir(runDir, task.key), PICTURES_DIR, 'confusion-matrix'), svg, task.key, 'confusion-matrix'));
  }
  return out;
}

/** For each true class, the test images the ensemble got wrong with the most confidence. */
function mistakesGrid(runDir: string, config: FerConfig, dataset: Dataset, classes: readonly string[]): string | undefined {
  const file = path.join(runDir, 'ensemble', 'predictions.test.csv');
  if (!existsSync(file)) return undefined;
  const predictions = readPredictions(file, classes.length);
  if (!predictions) return undefined;
  const { height, width, channels } = dataset.image;
  const size = height * width * channels;
  const rows: GridRow[] = classes.map((label, c) => {
    const wrong: { row: number; predicted: number; confidence: number }[] = [];
    for (let i = 0; i < predictions.labels.length; i++) {
      if (predictions.labels[i] !== c) continue;
      const predicted = argmax(predictions.probabilities, i, classes.length);
      if (predicted === c) continue;
      wrong.push({ row: predictions.rows[i]!, predicted, confidence: predictions.probabilities[i * classes.length + predicted]! });
    }
    wrong.sort((a, b) => b.confidence - a.confidence || a.row - b.row);
    return {
      label,
      images: wrong.slice(0, MISTAKES_PER_CLASS).map((w) => ({
        pixels: dataset.pixels.subarray(w.row * size, (w.row + 1) * size),
        width,
        height,
        channels,
        caption: `${classes[w.predicted]} ${(w.confidence * 100).toFixed(0)}%\nrow ${w.row}`,
      })),
    };
  });
  return imageGridSvg(rows, {
    title: `${config.name}: the most confident mistakes per class`,
    subtitle: 'test images by true class (rows); under each, what the ensemble said and how sure it was, and its data row',
    emptyText: 'no mistakes',
  });
}
