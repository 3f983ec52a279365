import path from 'node:path';
import type { Dataset } from '../data/dataset.js';
import { argmax } from '../ensemble/metrics.js';
import { imageGridSvg, type GridImage, type GridRow } from '../pictures/image-grid.js';
import { writePicture, type PictureFile } from '../pictures/picture-file.js';
import { classNames } from '../config/shape.js';
import { memberModels } from '../store/member-models.js';
import { readPredictions } from '../store/run-folder.js';
import { openRun } from '../store/saved-run.js';
import { readTaskSaliency, saliencyImages, type SaliencyImage } from '../store/task-saliency.js';
import { SavedEnsemble } from './saved-ensemble.js';

/**
 * The saliency picture of a finished run: for a few test images of each class, the image and,
 * beside it, where the ensemble looked (input gradients of the true class's probability, averaged
 * over its models, drawn hot over the image). The first test images of each class in data order,
 * so the same run draws the same picture. Each task's maps come from the worker that trained it
 * (store/task-saliency.ts); a run whose tasks lack them (trained by an earlier fer) has its models
 * loaded again here.
 */
export async function drawSaliency(runDir: string, dataset: Dataset, options: { perClass?: number } = {}): Promise<PictureFile[]> {
  const run = openRun(runDir);
  const classes = classNames(run.config);
  const predictions = readPredictions(path.join(runDir, 'ensemble', 'predictions.test.csv'), classes.length);
  if (!predictions) return [];
  const chosen = saliencyImages(predictions.rows, predictions.labels, classes.length, options.perClass);
  if (chosen.length === 0) return [];
  const { height, width, channels } = dataset.image;
  const size = height * width * channels;
  const tasks = memberModels(run).flatMap((m) => m.tasks);
  const loadModels = async () => {
    const images = new Uint8Array(chosen.length * size);
    chosen.forEach((c, i) => images.set(dataset.pixels.subarray(c.row * size, (c.row + 1) * size), i * size));
    return (await SavedEnsemble.open(run)).saliency(images, chosen.map((c) => c.label));
  };
  const { maps, height: mapHeight, width: mapWidth } = averageTaskMaps(runDir, tasks.map((t) => t.key), chosen) ?? (await loadModels());
  const mapSize = mapHeight * mapWidth;
  const rows: GridRow[] = classes.map((label, c) => {
    const cells: GridImage[] = [];
    chosen.forEach((item, i) => {
      if (item.label !== c) return;
      const pixels = dataset.pixels.subarray(item.row * size, (item.row + 1) * size);
      const predicted = argmax(predictions.probabilities, item.index, classes.length);
      const p = predictions.probabilities[item.index * classes.length + c]!;
      cells.push({ pixels, width, height, channels, caption: `row ${item.row}` });
      cells.push({
        pixels: overlay(pixels, width, height, channels, maps.subarray(i * mapSize, (i + 1) * mapSize), mapWidth, mapHeight),
        width,
        height,
        channels: 3,
        caption: `${label} ${(p * 100).toFixed(0)}%${predicted === c ? '' : `\nsaid ${classes[predicted]}`}`,
      });
    });
    return { label, images: cells };
  });
  const svg = imageGridSvg(rows, {
    title: `${run.config.name}: where the ensemble looks`,
    subtitle: `each test image, then its saliency (input gradient of the true class's probability, ${tasks.length} models averaged): hot = moves it most`,
  });
  return [writePicture(path.join(runDir, 'pictures', 'saliency'), svg, 'parent', 'saliency')];
}

/** The mean of the tasks' saved maps of the chosen images; undefined unless every task has them. */
function averageTaskMaps(runDir: string, keys: readonly string[], chosen: readonly SaliencyImage[]): { maps: Float32Array; height: number; width: number } | undefined {
  let sum: Float32Array | undefined;
  let shape = { height: 0, width: 0 };
  for (const key of keys) {
    const saved = readTaskSaliency(runDir, key);
    const same = saved && saved.rows.length === chosen.length && chosen.every((c, i) => saved.rows[i] === c.row && saved.labels[i] === c.label);
    if (!saved || !same) return undefined;
    if (sum && (saved.height !== shape.height || saved.width !== shape.width)) return undefined;
    shape = { height: saved.height, width: saved.width };
    sum ??= new Float32Array(saved.maps.length);
    for (let i = 0; i < sum.length; i++) sum[i]! += saved.maps[i]! / keys.length;
  }
  return sum ? { maps: sum, ...shape } : undefined;
}

/** The image in gray with the map drawn over it in a black-red-yellow scale, strongest where the map is largest. */
function overlay(pixels: ArrayLike<number>, width: number, height: number, channels: number, map: Float32Array, mapWidth: number, mapHeight: number): Uint8Array {
  // Scaled by a high quantile rather than the maximum: one extreme pixel would wash out the rest.
  const sorted = Float32Array.from(map).sort();
  const top = sorted[Math.floor(sorted.length * 0.99)] || sorted[sorted.length - 1] || 1;
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const gray = pixels[(y * width + x) * channels]!;
      const mx = Math.min(mapWidth - 1, Math.floor((x * mapWidth) / width));
      const my = Math.min(mapHeight - 1, Math.floor((y * mapHeight) / height));
      const h = Math.min(1, map[my * mapWidth + mx]! / top);
      const a = 0.85 * h;
      const hot = [Math.min(1, 3 * h), Math.min(1, Math.max(0, 3 * h - 1)), Math.max(0, 3 * h - 2)];
      for (let k = 0; k < 3; k++) out[(y * width + x) * 3 + k] = Math.round((1 - a) * gray * 0.7 + a * 255 * hot[k]!);
    }
  }
  return out;
}
