import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startEngine } from '../../src/backend/backend.js';
import { loadConfig } from '../../src/config/load.js';
import type { Tf } from '../../src/core/tf.js';
import { loadDataset } from '../../src/data/load.js';
import { evaluateSplit } from '../../src/predict/evaluate-split.js';
import { SavedEnsemble } from '../../src/predict/saved-ensemble.js';
import { createRunContext, executeTask } from '../../src/run/execute-task.js';
import { expandTasks } from '../../src/store/tasks.js';
import { repoRoot, runFer } from '../helpers/cli.js';
import { tempDir } from '../helpers/data.js';

/**
 * A run that chooses its weights on held-out validation rows and predicts with test-time views:
 * the demo's data and model, no folds, 25% of the training rows held out, flip views, and the
 * training techniques on (random crop, mixup, an average of the weights).
 */
const config = () =>
  [
    `extends: ${path.join(repoRoot, 'configs', 'templates', 'cnn.yaml')}`,
    'name: accuracy',
    'seed: 7',
    'data:',
    '  source: {synthetic: {rows_per_class: 40, splits: [train, test], noise: 0.5}}',
    '  split: {train: train, test: test, validation_fraction: 0.25}',
    '  preprocess: [{scale: {factor: 0.00392156862745098}}]',
    '  augment: [flip_horizontal, {crop: {size: 48, padding: 4}}, {mixup: {alpha: 0.2}}]',
    'models:',
    '  tiny:',
    '    layers:',
    '      - use: conv_stack',
    '        with: {filters: [8], kernel_sizes: [3], padding: same, pool: 2}',
    '      - use: classifier_head',
    '        with: {units: [16]}',
    'training:',
    '  epochs: 4',
    '  batch_size: 32',
    '  optimizer: {adam: {learning_rate: 3.0e-3}}',
    '  ema: {decay: 0.5}',
    '  early_stopping: {monitor: val_accuracy, patience: 3}',
    'evaluation:',
    '  tta: [flip]',
    'ensemble:',
    '  members: [{model: tiny}]',
  ].join('\n');

const readCsv = (file: string) => {
  const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1).map((line) => line.split(',').map(Number));
  return { rows: lines.map((l) => l[0]!), probabilities: Float32Array.from(lines.flatMap((l) => l.slice(2))) };
};
const maxDifference = (a: Float32Array, b: Float32Array) => {
  expect(a.length).toBe(b.length);
  return a.reduce((max, v, i) => Math.max(max, Math.abs(v - b[i]!)), 0);
};

let tf: Tf;
beforeAll(async () => {
  tf = (await startEngine('tensorflow')).tf;
});

describe('choosing weights on validation rows only', () => {
  it('holds out stratified validation rows apart from the training rows, and reads the test rows only for the final evaluation', async () => {
    const dir = tempDir('fer-accuracy-');
    const file = path.join(dir, 'accuracy.yaml');
    writeFileSync(file, config());
    const loaded = loadConfig(file);
    const { dataset } = await loadDataset({ data: loaded.config.data!, seed: loaded.config.seed });
    const context = createRunContext(tf, loaded, dataset, path.join(dir, 'run'), 'digest');
    const { train, validation } = context.holdOut!;
    const inTraining = new Set(train);
    expect(validation.every((row) => !inTraining.has(row))).toBe(true);
    expect([...train, ...validation].sort((a, b) => a - b)).toEqual(Array.from(context.splits.train));
    // Stratified: a quarter of each class's 40 rows.
    for (let c = 0; c < dataset.classes.length; c++) expect(validation.filter((row) => dataset.labels[row] === c).length).toBe(10);
    // Seeded: the same rows again.
    expect(createRunContext(tf, loaded, dataset, path.join(dir, 'run'), 'digest').holdOut!.validation).toEqual(validation);

    const events: string[] = [];
    const stop = context.splits.test!.onRead((purpose) => events.push(`test rows read: ${purpose}`));
    const [task] = expandTasks(loaded.config);
    const outcome = await executeTask(context, task!, 'fingerprint', new AbortController().signal, { onEpoch: (m) => events.push(`epoch ${m.epoch}`) });
    stop();
    expect(outcome.state).toBe('finished');
    const epochs = outcome.history.length;
    expect(events).toEqual([...Array.from({ length: epochs }, (_, i) => `epoch ${i + 1}`), 'test rows read: final evaluation']);
    expect(outcome.history.every((m) => m.val_accuracy !== undefined && m.test_accuracy === undefined)).toBe(true);
    // The kept epoch is the best validation accuracy's, and the record says so.
    const best = Math.max(...outcome.history.map((m) => m.val_accuracy!));
    expect(outcome.history[outcome.bestEpoch - 1]!.val_accuracy).toBe(best);
    expect(outcome.kept).toContain(`epoch ${outcome.bestEpoch}, their exponential moving average (decay 0.5): the best val_accuracy`);
    const status = JSON.parse(readFileSync(path.join(dir, 'run', 'tasks', 'tiny-1', 'all', 'status.json'), 'utf8')) as { kept: string; summary: Record<string, number> };
    expect(status.kept).toBe(outcome.kept);
    expect(Object.keys(status.summary).sort()).toEqual(['seconds', 'test_accuracy', 'test_accuracy_plain', 'val_accuracy', 'val_accuracy_plain']);
  }, 300_000);
});

describe('test-time views', () => {
  it('a saved run predicts with its views exactly what its own test predictions were; the report shows both figures', async () => {
    const runs = tempDir('fer-tta-runs-');
    const file = path.join(runs, 'accuracy.yaml');
    writeFileSync(file, config());
    const result = await runFer(['run', file, '--runs', runs]);
    expect(result.code, result.stderr).toBe(0);
    const runDir = path.join(runs, 'accuracy', readdirSync(path.join(runs, 'accuracy')).find((d) => d.startsWith('run-'))!);
    const report = readFileSync(path.join(runDir, 'ensemble', 'report.txt'), 'utf8');
    expect(report).toContain('without test-time views');
    expect(report).toContain('Test-time views: flip');
    const summary = JSON.parse(readFileSync(path.join(runDir, 'ensemble', 'summary.json'), 'utf8')) as { ensemble: { test: { accuracy: number } }; views: { label: string; withoutViews: { test: { accuracy: number } } } };
    expect(summary.views.label).toBe('flip');
    expect(summary.views.withoutViews.test.accuracy).toBeGreaterThan(0);

    const ensemble = await SavedEnsemble.open(runDir, { tf });
    const predicted = await evaluateSplit(ensemble, 'test');
    const saved = readCsv(path.join(runDir, 'ensemble', 'predictions.test.csv'));
    expect(Array.from(predicted.rows)).toEqual(saved.rows);
    expect(maxDifference(predicted.prediction.probabilities, saved.probabilities)).toBeLessThan(1e-5);
    // And they are not the plain predictions: the views changed something.
    const plain = readCsv(path.join(runDir, 'tasks', 'tiny-1', 'all', 'predictions.test.plain.csv'));
    expect(maxDifference(plain.probabilities, saved.probabilities)).toBeGreaterThan(1e-4);
  }, 300_000);
});
