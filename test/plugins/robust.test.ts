import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startEngine } from '../../src/backend/backend.js';
import { compileModel } from '../../src/compile/model-builder.js';
import { normalizeItem } from '../../src/config/normalize.js';
import { loadConfigWithPlugins, pluginRegistry, readConfigWithPlugins } from '../../src/config/read.js';
import type { Tf } from '../../src/core/tf.js';
import { createAugmenter } from '../../src/data/augment.js';
import { loadDataset } from '../../src/data/load.js';
import { fitPreprocessor } from '../../src/data/preprocess.js';
import { randomStream } from '../../src/data/random.js';
import { selectSplits } from '../../src/data/splits.js';
import { trainModel } from '../../src/engine/trainer.js';
import type { FerRegistry } from '../../src/registry/index.js';
import { repoRoot, runFer, STACK_TRACE } from '../helpers/cli.js';
import { writeSyntheticFer2013Csv } from '../helpers/data.js';

/**
 * The plugin API 2 example (plugins/robust): an augmentation and a training callback contributed by
 * a plugin are registry entries like fer's own: validated by the same schema pass, filled with
 * their defaults, run by the same code, and a run using them trains, saves and reloads.
 */
const SCRIPTED = path.join(repoRoot, 'test', 'fixtures', 'plugins', 'scripted-callback.ts');
let registry: FerRegistry;
let tf: Tf;
beforeAll(async () => {
  tf = (await startEngine('cpu')).tf;
  const loaded = await pluginRegistry(['plugins/robust', SCRIPTED], repoRoot);
  expect(loaded.diagnostics).toEqual([]);
  registry = loaded.registry;
});

const square = { height: 2, width: 2, channels: 1 };

describe('robust/gamma (a plugin augmentation)', () => {
  it('is written out with its defaults like a built-in entry', () => {
    expect(normalizeItem(registry, 'augmentation', 'robust/gamma')).toEqual({ 'robust/gamma': { probability: 0.5, max: 0.5 } });
    expect(normalizeItem(registry, 'augmentation', { 'robust/gamma': { max: 2 } })).toEqual({ 'robust/gamma': { max: 2, probability: 0.5 } });
  });

  it('maps v to 255 (v/255)^gamma, gamma drawn log-uniformly', () => {
    // Draws: 0 applies it (below the probability), 0.75 gives log(gamma) = 0.5 log(1 + 3): gamma = 2.
    const draws = [0, 0.75];
    const data = Float32Array.from([0, 63.75, 127.5, 255]);
    createAugmenter([{ 'robust/gamma': { probability: 1, max: 3 } }], registry)!.apply(data, 1, square, () => draws.shift()!);
    expect(draws).toEqual([]);
    [0, 15.9375, 63.75, 255].forEach((v, i) => expect(data[i]).toBeCloseTo(v, 4));
  });

  it('leaves an image alone when the draw says so, and draws nothing more for it', () => {
    const draws = [0.9];
    const data = Float32Array.from([10, 20, 30, 40]);
    createAugmenter([{ 'robust/gamma': { probability: 0.5 } }], registry)!.apply(data, 1, square, () => draws.shift()!);
    expect(Array.from(data)).toEqual([10, 20, 30, 40]);
    expect(draws).toEqual([]);
  });

  it('runs after the warp and tone stages: seeded, fresh each epoch, within 0-255', () => {
    const augmenter = createAugmenter(['robust/gamma', 'flip_horizontal', 'rotate', 'brightness'], registry)!;
    const shape = { height: 8, width: 8, channels: 1 };
    const run = (epoch: number) => {
      const data = Float32Array.from({ length: 64 * 4 }, (_, i) => (i * 37) % 256);
      augmenter.apply(data, 4, shape, randomStream(7, 'augment', epoch));
      return Array.from(data);
    };
    expect(run(0)).toEqual(run(0));
    expect(run(1)).not.toEqual(run(0));
    expect(run(0).every((v) => v >= 0 && v <= 255)).toBe(true);
  });
});

describe('plugin API versions', () => {
  it('takes the API 2 kinds only from a plugin that says it was written for API 2', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-api-'));
    const file = path.join(dir, 'old.js');
    writeFileSync(file, "export default { name: 'old', version: '1.0.0', api: 1, callbacks: [{ type: 'x', summary: 'x', build: () => ({}) }] };\n");
    const { diagnostics } = await pluginRegistry([file], dir);
    expect(diagnostics.map((d) => d.message)).toEqual([expect.stringContaining('`callbacks` needs plugin API 2: add `api: 2`')]);
  });
});

describe('robust/overfit_guard (a plugin callback)', () => {
  it('stops after `patience` epochs of rising validation loss and falling training loss', () => {
    const guard = registry.callbacks.get('robust/overfit_guard')!.build({ patience: 2, min_delta: 0 }, { epochs: 10 });
    const state = guard.initialState();
    const epochs = [
      { loss: 1.0, val_loss: 1.0 },
      { loss: 0.9, val_loss: 0.95 },
      { loss: 0.8, val_loss: 0.97 }, // diverging, 1
      { loss: 0.85, val_loss: 0.99 }, // both rise: not overfitting, back to 0
      { loss: 0.7, val_loss: 1.0 }, // 1
      { loss: 0.6, val_loss: 1.1 }, // 2: stop
    ];
    const decisions = epochs.map((m, i) => guard.onEpochEnd(i, m, state));
    expect(decisions.map((d) => d?.stop ?? false)).toEqual([false, false, false, false, false, true]);
    // A final fit has no validation loss: nothing to guard, nothing changes.
    expect(guard.onEpochEnd(6, { loss: 0.5 }, state)).toBeUndefined();
    expect(state).toEqual({ previous: { loss: 0.6, val_loss: 1.1 }, streak: 2 });
  });
});

describe('the trainer runs plugin callbacks', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-callbacks-'));
  const configFile = (callback: string) => {
    const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(
      file,
      [
        'seed: 3',
        `plugins: [${SCRIPTED}, plugins/robust]`,
        'data:',
        '  source: {synthetic: {rows_per_class: 8, splits: [train], noise: 0.2}}',
        '  classes: [a, b, c]',
        '  image: {height: 8, width: 8}',
        '  split: {train: train, test: null}',
        '  augment: [flip_horizontal, robust/gamma]',
        'models:',
        '  m:',
        '    layers:',
        '      - conv2d: {filters: 2, kernel_size: 3, padding: same, activation: relu}',
        '      - flatten',
        '      - dense: {units: $classes, activation: softmax}',
        'training:',
        '  epochs: 6',
        '  batch_size: 8',
        '  optimizer: {adam: {learning_rate: 0.01}}',
        `  callbacks: [${callback}]`,
        '',
      ].join('\n'),
    );
    return file;
  };
  const train = async (callback: string) => {
    const loaded = await loadConfigWithPlugins(configFile(callback), { cwd: repoRoot });
    const data = loaded.config.data!;
    const { dataset } = await loadDataset({ data, seed: loaded.config.seed, cache: false, registry: loaded.registry });
    const rows = selectSplits(dataset, data.split, loaded.config.seed).train;
    const train = rows.filter((_, i) => i % 4 !== 0);
    const validation = rows.filter((_, i) => i % 4 === 0);
    const preprocessor = fitPreprocessor(data.preprocess, dataset, train, loaded.registry);
    const model = compileModel(loaded, 'm', { tf, seed: 1 }).model;
    const result = await trainModel({
      tf,
      registry: loaded.registry,
      model,
      training: loaded.config.training,
      train: { dataset, rows: train, preprocessor, batchSize: 8, shuffle: true, seed: 2, augmenter: createAugmenter(data.augment, loaded.registry) },
      validation: { dataset, rows: validation, preprocessor, batchSize: 8, shuffle: false, seed: 2 },
      graphSteps: false,
    });
    const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
    model.dispose();
    return { result, weights };
  };

  it('stops when a callback says so and ends with the weights of the epoch it called best', async () => {
    const kept = await train('{scripted/script: {best: [1], stop: 3}}');
    expect(kept.result.history).toHaveLength(4);
    expect(kept.result.stoppedEarly).toBe(true);
    expect(kept.result.bestEpoch).toBe(2);
    // The same training stopped after epoch 2 without restoring: the weights the first one kept.
    const atTwo = await train('{scripted/script: {stop: 1, restore: false}}');
    expect(atTwo.result.history).toHaveLength(2);
    expect(atTwo.result.bestEpoch).toBe(2);
    expect(kept.weights).toEqual(atTwo.weights);
  });

  it('refuses two callbacks that both restore the best weights', async () => {
    await expect(train('{scripted/script: {}}, {early_stopping: {monitor: val_accuracy}}')).rejects.toThrow('only one callback may restore the best weights');
  });
});

describe("the contributing guide's plugin (docs/contributing.md)", () => {
  const guide = readFileSync(path.join(repoRoot, 'docs', 'contributing.md'), 'utf8');
  const plugin = /```ts\n(import type \{ FerPlugin \} from 'ferkit\/plugin';[\s\S]*?)```/.exec(guide)![1]!;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-contributing-'));
  writeFileSync(path.join(dir, 'erasing.ts'), plugin);

  it('changes images exactly as the built-in entry it copies', async () => {
    const { registry: withPlugin, diagnostics } = await pluginRegistry(['./erasing.ts'], dir);
    expect(diagnostics).toEqual([]);
    const args = { probability: 0.7, min_area: 0.1, max_area: 0.4, max_aspect: 2 };
    const shape = { height: 12, width: 10, channels: 3 };
    const apply = (item: Record<string, Record<string, unknown>>) => {
      const data = Float32Array.from({ length: 360 * 6 }, (_, i) => (i * 31) % 256);
      createAugmenter([item], withPlugin)!.apply(data, 6, shape, randomStream(5, 'augment', 0));
      return Array.from(data);
    };
    const plugged = apply({ 'mine/erasing': args });
    expect(plugged).toEqual(apply({ random_erasing: args }));
    expect(plugged).not.toEqual(apply({ random_erasing: { ...args, probability: 0 } }));
  });

  it('is validated like a built-in: a misspelt name gets did-you-mean', async () => {
    writeFileSync(path.join(dir, 'config.yaml'), ['plugins: [./erasing.ts]', 'data:', '  source: {synthetic: {}}', '  augment:', '    - flip_horizontal', '    - mine/erasng: {probability: 0.3}', ''].join('\n'));
    const { diagnostics } = await readConfigWithPlugins(path.join(dir, 'config.yaml'));
    expect(diagnostics).toEqual([expect.objectContaining({ code: 'unknown-key', hint: 'did you mean `mine/erasing`?', span: expect.objectContaining({ start: { line: 6, column: 7 } }) })]);
  });
});

describe('the robust plugin from the command line', () => {
  it('a typo in its arguments or its names is an error at its line and column, with did-you-mean', async () => {
    const result = await runFer(['validate', path.join('test', 'fixtures', 'plugins', 'robust-typos.yaml')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/robust-typos\.yaml:6:22: error: unknown key `probabilty`/);
    expect(result.stderr).toContain('did you mean `probability`?');
    expect(result.stderr).toMatch(/robust-typos\.yaml:9:7: error: unknown callback `robust\/overfit_gard`/);
    expect(result.stderr).toContain('did you mean `robust/overfit_guard`?');
    expect(result.stderr).not.toMatch(STACK_TRACE);
  });

  it('fer plugins list shows what it contributes', async () => {
    const result = await runFer(['plugins', 'list', 'configs/plugins/robust-demo.yaml', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const { plugins } = JSON.parse(result.stdout) as { plugins: Record<string, unknown>[] };
    expect(plugins).toHaveLength(1);
    expect(plugins[0]).toMatchObject({
      name: 'robust',
      layers: [],
      augmentations: [{ type: 'robust/gamma' }],
      callbacks: [{ type: 'robust/overfit_guard' }],
    });
  });

  it('configs/plugins/robust-demo.yaml trains, and fer predict and fer evaluate reload the saved run', async () => {
    const runs = mkdtempSync(path.join(os.tmpdir(), 'fer-robust-'));
    const run = await runFer(['run', 'configs/plugins/robust-demo.yaml', '--runs', runs, '--set', 'training.epochs=2', '--set', 'ensemble.members=[{model: tiny, count: 1}]', '--json'], {
      env: { MLFLOW_TRACKING_URI: '' },
    });
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { runDir: string; state: string };
    expect(result.state).toBe('finished');
    const predict = await runFer(['predict', result.runDir, writeSyntheticFer2013Csv(100), '--json']);
    expect(predict.code, predict.stderr).toBe(0);
    expect(JSON.parse(predict.stdout) as unknown[]).toHaveLength(700);
    const evaluate = await runFer(['evaluate', result.runDir, '--split', 'train', '--json']);
    expect(evaluate.code, evaluate.stderr).toBe(0);
    const metrics = JSON.parse(evaluate.stdout) as { ensemble: { accuracy: number } };
    expect(metrics.ensemble.accuracy).toBeGreaterThan(0);
  }, 300_000);
});
