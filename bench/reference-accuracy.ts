/**
 * Accuracy, not speed: the reference CNN trained on all FER2013 Training rows, scored on PublicTest
 * after every epoch, by fer and by a hand-written tfjs-node baseline in the same run on the same
 * machine. The baseline is what issue 4 describes: the model written with tfjs-layers, Adam 1e-4,
 * batch 32, pixels scaled to [0, 1], no class weights, no augmentation, `model.fit` with shuffling.
 * It parses the CSV itself, so nothing of fer's data pipeline is shared. fer runs the command a
 * user would (configs/cnn.yaml without folds, scaled pixels, no class weights).
 *   npm run bench -- reference-accuracy      (about 25 minutes per epoch pair on 2 cores)
 *   BENCH_EPOCHS=3 BENCH_SEEDS=1,2           (seeds: one baseline and one fer run per seed)
 * Math.random is seeded for the baseline (tfjs draws its initial weights and shuffles from it), so
 * it is reproducible too. The baseline runs on tfjs-node's own kernels (fer's faster kernels are
 * turned off in this process with FER_TFJS_GRADIENTS=1), with TensorFlow's oneDNN kernels on, as in
 * fer's runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type * as tfjs from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { startEngine } from '../src/backend/backend.js';
import { listRuns, readTaskMetrics } from '../src/store/run-folder.js';
import { handWrittenCnn } from './baselines/reference-models.js';
import { printMachine } from './report.js';
import { fer2013Csv } from './fer-data.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const epochs = Number(process.env.BENCH_EPOCHS ?? 3);
const seeds = (process.env.BENCH_SEEDS ?? '1').split(',').map(Number);
const csvFile = fer2013Csv('reference-accuracy');

interface EpochResult {
  accuracy: number;
  seconds: number;
}

/** The Training and PublicTest rows as [0, 1] pixels and one-hot labels, parsed by hand. */
function readSplits(tf: typeof tfjs): Record<'Training' | 'PublicTest', { x: tfjs.Tensor4D; y: tfjs.Tensor2D }> {
  const lines = gunzipSync(readFileSync(csvFile)).toString('utf8').split('\n');
  const rows: Record<string, { pixels: number[]; labels: number[] }> = { Training: { pixels: [], labels: [] }, PublicTest: { pixels: [], labels: [] } };
  for (const line of lines.slice(1)) {
    const [emotion, pixels, usage] = line.trim().split(',');
    const split = rows[usage ?? ''];
    if (!split || pixels === undefined) continue;
    split.labels.push(Number(emotion));
    for (const p of pixels.split(' ')) split.pixels.push(Number(p) / 255);
  }
  const tensors = (s: { pixels: number[]; labels: number[] }) => ({
    x: tf.tensor4d(s.pixels, [s.labels.length, 48, 48, 1]),
    y: tf.oneHot(tf.tensor1d(s.labels, 'int32'), 7) as tfjs.Tensor2D,
  });
  return { Training: tensors(rows.Training!), PublicTest: tensors(rows.PublicTest!) };
}

async function handWritten(tf: typeof tfjs, seed: number): Promise<EpochResult[]> {
  seedrandom(`baseline-${seed}`, { global: true });
  const data = readSplits(tf);
  const model = handWrittenCnn(tf);
  model.compile({ optimizer: tf.train.adam(1e-4), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const results: EpochResult[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const start = performance.now();
    await model.fit(data.Training.x, data.Training.y, { batchSize: 32, epochs: 1, shuffle: true, verbose: 0 });
    const seconds = (performance.now() - start) / 1000;
    const [, accuracy] = model.evaluate(data.PublicTest.x, data.PublicTest.y, { batchSize: 256 }) as tfjs.Scalar[];
    results.push({ accuracy: accuracy!.dataSync()[0]!, seconds });
    console.log(`   baseline seed ${seed} epoch ${epoch + 1}: PublicTest ${(results[epoch]!.accuracy * 100).toFixed(1)}% (${seconds.toFixed(0)} s)`);
  }
  model.dispose();
  tf.dispose([data.Training.x, data.Training.y, data.PublicTest.x, data.PublicTest.y]);
  return results;
}

function ferRun(seed: number): EpochResult[] {
  const runs = mkdtempSync(path.join(os.tmpdir(), 'fer-accuracy-'));
  const args = [
    path.join(root, 'bin', 'fer.js'), 'run', path.join(root, 'configs', 'cnn.yaml'), '--runs', runs,
    '--set', '~folds', '--set', 'data.preprocess=[{scale: {}}]', '--set', 'data.class_weight=none',
    '--set', `training.epochs=${epochs}`, '--set', `seed=${seed}`,
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, MLFLOW_TRACKING_URI: '' };
  delete env.FER_TFJS_GRADIENTS;
  const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'], env });
  if (result.status !== 0) throw new Error(`fer run exited with ${result.status}`);
  const run = listRuns(runs)[0]?.dir;
  const member = run === undefined ? undefined : readdirSync(path.join(run, 'tasks'))[0];
  const history = run === undefined || member === undefined ? undefined : readTaskMetrics(run, `${member}/all`);
  rmSync(runs, { recursive: true, force: true });
  if (history === undefined) throw new Error('fer run left no per-epoch metrics');
  return history.map((epoch) => ({ accuracy: epoch.test_accuracy ?? Number.NaN, seconds: epoch.seconds }));
}

// The baseline is plain tfjs-node: none of fer's kernel replacements (the fer run is a child process).
process.env.FER_TFJS_GRADIENTS = '1';
printMachine('reference-accuracy');
const { tf, backend, reason } = await startEngine('tensorflow');
console.log(`backend: ${backend} (${reason}); the reference CNN, ${epochs} epochs, seeds ${seeds.join(', ')}`);
const table: { seed: number; baseline: EpochResult[]; fer: EpochResult[] }[] = [];
for (const seed of seeds) {
  const baseline = await handWritten(tf as unknown as typeof tfjs, seed);
  const fer = ferRun(seed);
  table.push({ seed, baseline, fer });
}
console.log('\nPublicTest accuracy after each epoch (seconds per epoch)');
console.log(`   seed epoch  ${'hand-written tfjs'.padStart(18)}  ${'fer'.padStart(14)}  fer - baseline`);
for (const { seed, baseline, fer } of table) {
  baseline.forEach((b, i) => {
    const f = fer[i]!;
    const cell = (r: EpochResult) => `${(r.accuracy * 100).toFixed(1)}% (${r.seconds.toFixed(0)} s)`;
    console.log(`   ${String(seed).padStart(4)} ${String(i + 1).padStart(5)}  ${cell(b).padStart(18)}  ${cell(f).padStart(14)}  ${((f.accuracy - b.accuracy) * 100).toFixed(1).padStart(6)} points`);
  });
}
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const last = (results: EpochResult[]) => results[results.length - 1]!.accuracy;
console.log(`\n   after ${epochs} epochs, mean over seeds: baseline ${(mean(table.map((t) => last(t.baseline))) * 100).toFixed(1)}%, fer ${(mean(table.map((t) => last(t.fer))) * 100).toFixed(1)}%`);
