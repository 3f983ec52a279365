/**
 * TPE against random search at the same budget, on a real but small FER2013 task: quick.yaml's
 * search space (configs/sweeps/quick-sweep.yaml) with 2-epoch trials, 2 folds, on a subset of the
 * Training rows. Random search is the baseline, measured in the same run on the same machine. For
 * each seed, both sweeps run through `fer sweep` as a user would; printed: the best objective
 * (validation accuracy) each found, mean over the seeds, and the time each took.
 *   npm run bench -- sweep                         (3 seeds x 2 methods x 10 trials: 39 min on 2 cores)
 *   BENCH_SEEDS=1,2,3 BENCH_TRIALS=10 BENCH_ROWS=3000 BENCH_EPOCHS=2
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { printMachine } from './report.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const seeds = (process.env.BENCH_SEEDS ?? '1,2,3').split(',').map(Number);
const trials = Number(process.env.BENCH_TRIALS ?? 10);
const rows = Number(process.env.BENCH_ROWS ?? 3000);
const epochs = Number(process.env.BENCH_EPOCHS ?? 2);
const csvFile = path.join(process.env.FER_DATA ?? path.join(root, '..', 'shared', 'data', 'fer2013'), 'fer2013-train-public.csv.gz');

/** The first `rows` Training rows (and 10 PublicTest rows, which the config's split names), as a CSV of their own. */
function subset(dir: string): string {
  const lines = gunzipSync(readFileSync(csvFile)).toString('utf8').split('\n');
  const training = lines.filter((l) => l.endsWith(',Training')).slice(0, rows);
  const test = lines.filter((l) => l.endsWith(',PublicTest')).slice(0, 10);
  const file = path.join(dir, 'subset.csv');
  writeFileSync(file, [lines[0], ...training, ...test].join('\n'));
  return file;
}

function sweep(dir: string, data: string, method: 'tpe' | 'random', seed: number): { best: number; seconds: number } {
  const file = path.join(dir, `${method}-${seed}.yaml`);
  writeFileSync(
    file,
    `extends: ${path.join(root, 'configs', 'sweeps', 'quick-sweep.yaml')}\nname: bench-${method}-${seed}\n` +
      `training:\n  epochs: ${epochs}\n` +
      `sweep:\n  search: {method: ${method}, seed: ${seed}, startup_trials: ${Math.min(4, trials)}}\n  pruning: none\n  budget: {trials: ${trials}}\n`,
  );
  const started = performance.now();
  const result = spawnSync(process.execPath, [path.join(root, 'bin', 'fer.js'), 'sweep', file, '--json', '--runs', path.join(dir, 'runs'), '--set', `data.source.csv=${data}`], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, MLFLOW_TRACKING_URI: '' },
    maxBuffer: 1 << 26,
  });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`fer sweep (${method}, seed ${seed}) failed:\n${result.stderr.slice(-2000)}`);
  const json = JSON.parse(result.stdout) as { best: { objective: number } | null };
  return { best: json.best?.objective ?? Number.NaN, seconds };
}

printMachine('sweep');
const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-bench-sweep-'));
const data = subset(dir);
console.log(`  ${rows} Training rows, ${trials} trials of ${epochs} epochs x 2 folds per sweep, seeds ${seeds.join(', ')}; search space of configs/sweeps/quick-sweep.yaml, no pruning`);
const found: Record<'tpe' | 'random', { best: number; seconds: number }[]> = { tpe: [], random: [] };
for (const seed of seeds) {
  for (const method of ['random', 'tpe'] as const) {
    const r = sweep(dir, data, method, seed);
    found[method].push(r);
    console.log(`  seed ${seed} ${method.padEnd(6)} best validation accuracy ${(r.best * 100).toFixed(2)}%  ${r.seconds.toFixed(0)} s`);
  }
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log('\nmethod  mean best val. accuracy  mean seconds  x random (accuracy)');
for (const method of ['random', 'tpe'] as const) {
  const best = mean(found[method].map((r) => r.best));
  console.log(`${method.padEnd(6)}  ${`${(best * 100).toFixed(2)}%`.padStart(23)}  ${mean(found[method].map((r) => r.seconds)).toFixed(0).padStart(11)}  ${(best / mean(found.random.map((r) => r.best))).toFixed(3).padStart(19)}`);
}
