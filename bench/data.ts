/**
 * Data loading and augmentation speed, each against a baseline measured in the same run:
 * - parsing the full FER2013 gzip CSV with fer's streaming parser vs the obvious hand-written way
 *   (gunzip the whole file, split lines and fields, Number() every pixel);
 * - loading the same data from fer's cache;
 * - augmentation throughput (images/s) vs the training throughput of the reference CNN on the
 *   fastest backend this machine has (augmentation must not be the bottleneck).
 *   FER_DATA=<folder of fer2013-train-public.csv.gz> npm run bench -- data
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createAugmenter } from '../src/data/augment.js';
import { loadDataset } from '../src/data/load.js';
import { randomStream } from '../src/data/random.js';
import { gatherRows } from '../src/data/preprocess.js';
import { median, printMachine, printTable } from './report.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { trainingThroughput } from './training-throughput.js';
import { fer2013Csv } from './fer-data.js';

printMachine('data');
const file = fer2013Csv('data');
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const compressed = statSync(file).size;
const cache = mkdtempSync(path.join(tmpdir(), 'fer-bench-cache-'));
const data = {
  source: { csv: file },
  classes: ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'],
  merge_classes: null,
  image: { height: 48, width: 48, channels: 1 as const },
  split: { train: 'Training', test: 'PublicTest', test_fraction: null, validation_fraction: null },
  preprocess: [],
  augment: [],
  class_weight: 'none' as const,
  cache,
};

function naiveParse(): number {
  const text = gunzipSync(readFileSync(file)).toString('utf8');
  const lines = text.split('\n').slice(1).filter((l) => l.length > 0);
  const pixels = new Uint8Array(lines.length * 2304);
  const labels = new Uint8Array(lines.length);
  lines.forEach((line, i) => {
    const [label, values] = line.split(',');
    labels[i] = Number(label);
    pixels.set(values!.split(' ').map(Number), i * 2304);
  });
  return lines.length;
}

const naive: number[] = [];
const streamed: number[] = [];
let rows = 0;
let textBytes = 0;
for (let i = 0; i < repeats; i++) {
  let start = performance.now();
  rows = naiveParse();
  naive.push(performance.now() - start);
  start = performance.now();
  const loaded = await loadDataset({ data, seed: 0, cache: false });
  streamed.push(performance.now() - start);
  rows = loaded.dataset.labels.length;
}
textBytes = gunzipSync(readFileSync(file)).length;
await loadDataset({ data, seed: 0 }); // writes the cache
const cached: number[] = [];
let dataset = (await loadDataset({ data, seed: 0 })).dataset;
for (let i = 0; i < repeats; i++) {
  const start = performance.now();
  dataset = (await loadDataset({ data, seed: 0 })).dataset;
  cached.push(performance.now() - start);
}

const base = median(naive);
const ours = median(streamed);
printTable(`data: parse ${path.basename(file)} (${(compressed / 1e6).toFixed(1)} MB gzip, ${(textBytes / 1e6).toFixed(0)} MB of text, ${rows.toLocaleString('en-US')} rows), median of ${repeats}`, [
  ['hand-written: gunzip all, split, Number() each pixel (baseline)', base, 1],
  [`fer streaming parser + digest (${Math.round(rows / (ours / 1000)).toLocaleString('en-US')} rows/s, ${(textBytes / 1e6 / (ours / 1000)).toFixed(0)} MB/s of text)`, ours, ours / base],
  ['fer cached load', median(cached), median(cached) / base],
]);

// Augmentation: everything on, batches of 32, as training draws them.
const augmenter = createAugmenter(['flip_horizontal', 'shift', 'rotate', 'zoom', 'brightness', 'contrast', 'random_erasing'])!;
const batch = 32;
const images = 32 * 100;
const random = randomStream(1, 'bench');
const rowsToUse = Int32Array.from({ length: images }, (_, i) => i);
const start = performance.now();
for (let b = 0; b < images; b += batch) {
  const raw = gatherRows(dataset, rowsToUse.subarray(b, b + batch));
  augmenter.apply(raw, batch, dataset.image, random);
}
const augmentSeconds = (performance.now() - start) / 1000;
const augmentRate = images / augmentSeconds;
const training = await trainingThroughput();
console.log(`\naugmentation (all seven kinds, 48x48x1, batches of ${batch}): ${Math.round(augmentRate).toLocaleString('en-US')} images/s on one core`);
if (training) {
  console.log(`reference CNN training on backend ${training.backend}: ${training.imagesPerSecond.toFixed(0)} images/s`);
  console.log(`augmentation / training throughput: ${(augmentRate / training.imagesPerSecond).toFixed(1)}x (above 1: augmentation is not the bottleneck)`);
} else {
  console.log('reference CNN training: not measured (no native TensorFlow backend here; the pure-JS backend needs minutes per batch)');
}
