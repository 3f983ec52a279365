/**
 * Accuracy against wall clock for the shipped recipes, each run end to end as a user runs it
 * (`fer run configs/<recipe>.yaml`, from the command to its report), beside the previous quick
 * recipe (bench/baselines/quick-previous.yaml: quick.yaml before issue 21) measured in the same run
 * on the same machine. A change to a recipe is measured, not asserted.
 *   npm run bench -- recipes                 (quick.yaml and the previous recipe: about 28 minutes on 2 cores)
 *   BENCH_RECIPES=quick,hour                 (recipes of configs/ to run; hour and long take an hour each)
 *   BENCH_SET='training.epochs=1'            (one --set for every run, e.g. to try the benchmark itself)
 * Runs are local only (no MLflow), each in a fresh runs folder, so nothing of one helps the next
 * except the parsed-data cache, which every run finds the same way.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listRuns, readEnsembleSummary, readTaskMetrics, type EpochMetrics } from '../src/store/run-folder.js';
import { fer2013Csv } from './fer-data.js';
import { printMachine } from './report.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const recipes = (process.env.BENCH_RECIPES ?? 'quick').split(',').filter(Boolean);
const extraSet = process.env.BENCH_SET;
/** The wall clock each recipe is meant to fit in (issue 21), to print beside what it took. */
const budgetMinutes: Record<string, number> = { quick: 15, hour: 60, long: 60 };

interface RecipeResult {
  label: string;
  accuracy: number;
  plainAccuracy: number | undefined;
  views: string;
  minutes: number;
  epochs: number;
  imagesPerSecond: number;
}

/** A member's per-epoch record: minutes since its start, training accuracy, and validation or test accuracy where recorded. */
function printCurve(task: string, rows: readonly EpochMetrics[]): void {
  console.log(`  ${task}: epoch  minutes  train acc.  val. acc.  test acc.  images/s`);
  let seconds = 0;
  for (const row of rows) {
    seconds += row.seconds;
    const cell = (value: number | undefined) => (value === undefined ? '-' : `${(value * 100).toFixed(1)}%`).padStart(9);
    console.log(`  ${' '.repeat(task.length)}  ${String(row.epoch).padStart(5)}  ${(seconds / 60).toFixed(1).padStart(7)}  ${cell(row.accuracy).padStart(10)}  ${cell(row.val_accuracy)}  ${cell(row.test_accuracy)}  ${row.images_per_second.toFixed(0).padStart(8)}`);
  }
}

function runRecipe(label: string, config: string): RecipeResult {
  const runs = mkdtempSync(path.join(os.tmpdir(), 'fer-bench-recipes-'));
  try {
    const args = [path.join(root, 'bin', 'fer.js'), 'run', config, '--runs', runs, '--new', '--yes'];
    if (extraSet) args.push('--set', extraSet);
    console.log(`\n  ${label}: fer run ${path.relative(root, config)}${extraSet ? ` --set ${extraSet}` : ''}`);
    const started = performance.now();
    const result = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, MLFLOW_TRACKING_URI: '' } });
    const minutes = (performance.now() - started) / 60_000;
    if (result.status !== 0) throw new Error(`fer run ${config} exited with ${result.status}`);
    const run = listRuns(runs)[0]?.dir;
    const summary = run === undefined ? undefined : readEnsembleSummary(run);
    if (run === undefined || summary === undefined) throw new Error(`fer run ${config} left no finished run in ${runs}`);
    // Epochs and training speed from the members' own records (the mean over members), and each member's curve.
    // A recipe fits once on all training rows, so each member has one task, <member>/all.
    const epochRows = readdirSync(path.join(run, 'tasks')).map((member) => {
      const key = `${member}/all`;
      const rows = readTaskMetrics(run, key);
      if (rows === undefined || rows.length === 0) throw new Error(`task ${key} of ${run} has no metrics.json`);
      printCurve(key, rows);
      return { epochs: rows.length, rate: rows.reduce((sum, row) => sum + row.images_per_second, 0) / rows.length };
    });
    return {
      label,
      accuracy: summary.ensemble.test?.accuracy ?? Number.NaN,
      plainAccuracy: summary.views?.withoutViews.test?.accuracy,
      views: summary.views?.label ?? 'none',
      minutes,
      epochs: Math.max(...epochRows.map((r) => r.epochs)),
      imagesPerSecond: epochRows.reduce((sum, r) => sum + r.rate, 0) / epochRows.length,
    };
  } finally {
    rmSync(runs, { recursive: true, force: true });
  }
}

const percent = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '-' : `${(x * 100).toFixed(2)}%`);

fer2013Csv('recipes');
printMachine('recipes');
const results: RecipeResult[] = [runRecipe('previous quick', path.join(root, 'bench', 'baselines', 'quick-previous.yaml'))];
for (const recipe of recipes) results.push(runRecipe(recipe, path.join(root, 'configs', `${recipe}.yaml`)));

const baseline = results[0]!;
console.log('\nPublicTest accuracy and minutes from the command to the report, against the previous quick recipe in this run');
const header = ['recipe', 'PublicTest', 'no views', 'views', 'minutes', 'budget', 'epochs', 'images/s', 'points vs previous', 'x minutes'];
const rows = results.map((r) => {
  const budget = budgetMinutes[r.label];
  return [
    r.label,
    percent(r.accuracy),
    percent(r.plainAccuracy),
    r.views,
    r.minutes.toFixed(1),
    budget === undefined ? '-' : `${budget}${r.minutes <= budget ? '' : ' (over)'}`,
    String(r.epochs),
    r.imagesPerSecond.toFixed(0),
    r === baseline ? '-' : ((r.accuracy - baseline.accuracy) * 100).toFixed(2),
    (r.minutes / baseline.minutes).toFixed(2),
  ];
});
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
for (const row of [header, ...rows]) console.log(row.map((cell, i) => (i === 0 || i === 3 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
