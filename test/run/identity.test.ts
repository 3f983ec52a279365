import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareRun } from '../../src/run/runner.js';
import { runFer } from '../helpers/cli.js';
import { tempDir, writeSyntheticFer2013Csv } from '../helpers/data.js';

/** A tiny experiment on a CSV beside it: two one-epoch tasks, a few seconds. */
const CONFIG = [
  'name: where',
  'seed: 5',
  'data:',
  '  source: {csv: data/synthetic-56.csv}',
  '  preprocess: [{scale: {factor: 0.00392156862745098}}]',
  '  split: {train: Training, test: null}',
  'models:',
  '  tiny:',
  '    layers:',
  '      - conv2d: {filters: 2, kernel_size: 3, strides: 4, activation: relu}',
  '      - flatten',
  '      - dense: {units: $classes, activation: softmax}',
  'training: {epochs: 1, batch_size: 16, optimizer: {adam: {learning_rate: 0.01}}}',
  'folds: {k: 2}',
  'ensemble: {members: [{model: tiny, count: 1}]}',
  '',
].join('\n');

describe('the identity of a run', () => {
  it('is the same for the same config and data wherever the checkout, the data and the cache sit (run folder and MLflow params)', async () => {
    // Two checkouts holding the same config; the first has the data in data/, the second reaches the
    // same file through a symlink (as two machines mounting a shared folder differently do). Each run
    // keeps its data cache in its own runs/.cache; both report into one runs folder.
    const first = tempDir('fer-checkout-');
    const second = tempDir('fer-checkout-');
    const elsewhere = tempDir('fer-mount-');
    mkdirSync(path.join(first, 'data'));
    writeSyntheticFer2013Csv(8, { dir: path.join(first, 'data') });
    writeSyntheticFer2013Csv(8, { dir: elsewhere });
    symlinkSync(elsewhere, path.join(second, 'data'));
    for (const dir of [first, second]) writeFileSync(path.join(dir, 'experiment.yaml'), CONFIG);
    const runs = tempDir('fer-runs-');
    const env = { MLFLOW_TRACKING_URI: '' };

    const a = await runFer(['run', 'experiment.yaml', '--runs', runs, '--workers', '1'], { cwd: first, env });
    expect(a.code, a.stderr).toBe(0);
    const folders = () => readdirSync(path.join(runs, 'where'));
    expect(folders()).toHaveLength(1);
    const runDir = path.join(runs, 'where', folders()[0]!);
    const params = () => JSON.parse(readFileSync(path.join(runDir, 'tracking', 'params.json'), 'utf8')) as Record<string, string>;
    const paramsA = params();

    const b = await runFer(['run', 'experiment.yaml', '--runs', runs, '--workers', '1'], { cwd: second, env });
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toContain('2 tasks, 2 already done, 0 to train');
    expect(folders()).toHaveLength(1);
    expect(params()).toEqual(paramsA);
    // Paths as the config file sees them, nothing of the machine.
    expect(paramsA['data.source.csv.path']).toBe('data/synthetic-56.csv');
    expect(paramsA['data.cache']).toBe('runs/.cache');
    for (const dir of [first, second, elsewhere, runs]) expect(JSON.stringify(paramsA)).not.toContain(dir);
  }, 300_000);

  it('knows initial weights by their content, not by where they are read from', async () => {
    // A model.json whose weight file holds `bytes`, in its own folder.
    const weights = (bytes: number[]) => {
      const dir = tempDir('fer-weights-');
      writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ weightsManifest: [{ paths: ['weights.bin'], weights: [] }] }));
      writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(bytes));
      return dir;
    };
    const runsDir = tempDir('fer-runs-');
    const runOf = async (weightsDir: string) => {
      const checkout = tempDir('fer-checkout-');
      symlinkSync(weightsDir, path.join(checkout, 'start'));
      const config = [
        'name: warm',
        'data: {source: {synthetic: {rows_per_class: 2, splits: [train, test]}}, split: {train: train, test: test}}',
        'models: {tiny: {init: {model: start/model.json}, layers: [flatten, {dense: {units: $classes, activation: softmax}}]}}',
        'ensemble: {members: [{model: tiny}]}',
        '',
      ].join('\n');
      writeFileSync(path.join(checkout, 'warm.yaml'), config);
      return path.basename((await prepareRun({ configFile: 'warm.yaml', overrides: [], cwd: checkout, runsDir })).runDir);
    };
    const same = [1, 2, 3, 4];
    const first = await runOf(weights(same));
    expect(await runOf(weights(same))).toBe(first);
    expect(await runOf(weights([1, 2, 3, 5]))).not.toBe(first);
  });
});
