import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/diagnostic.js';
import { repoRoot } from '../helpers/cli.js';

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'fer-load-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

function errorsOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('merges extends in order: maps deep, lists replaced, the file itself last', () => {
    const dir = folder({
      'base/a.yaml': 'seed: 1\ntraining: {epochs: 10, batch_size: 16}\ndata: {source: {synthetic: {}}, classes: [a, b, c]}\n',
      'b.yaml': 'training: {epochs: 20}\ndata: {classes: [x, y]}\n',
      'main.yaml': 'extends: [base/a.yaml, b]\ntraining: {batch_size: 64}\n',
    });
    const { config, files } = loadConfig(path.join(dir, 'main.yaml'));
    expect(config.seed).toBe(1);
    expect(config.training).toMatchObject({ epochs: 20, batch_size: 64 });
    expect(config.data!.classes).toEqual(['x', 'y']);
    expect(files.map((f) => path.relative(dir, f))).toEqual(['base/a.yaml', 'b.yaml', 'main.yaml']);
  });

  it('fills defaults and names the experiment after the file', () => {
    const dir = folder({ 'my-exp.yaml': 'seed: 3\n' });
    const { config } = loadConfig(path.join(dir, 'my-exp.yaml'));
    expect(config.name).toBe('my-exp');
    expect(config.plugins).toEqual([]);
    expect(config.training).toEqual({
      epochs: 10,
      stages: [],
      batch_size: 32,
      // Normalised: a bare name is written out with every argument, defaults from its registry entry.
      optimizer: { adam: { learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 } },
      loss: { categorical_crossentropy: { label_smoothing: 0 } },
      schedule: null,
      clip: null,
      early_stopping: null,
      ema: null,
      callbacks: [],
    });
    expect(config.evaluation).toEqual({ tta: [], combine: 'mean', validation_every_epoch: false, test_curve: false });
    expect(config.tracking).toEqual({ uri: null, experiment: null, tags: {}, flush_seconds: 60, system_metrics_seconds: 10, register: null });
  });

  it('resolves relative paths against the file that wrote them', () => {
    const dir = folder({
      'configs/base/data.yaml': 'data:\n  source: {csv: ../../data/fer.csv}\n',
      'configs/exp.yaml': 'extends: base/data.yaml\n',
    });
    const { config } = loadConfig(path.join(dir, 'configs/exp.yaml'), { cwd: '/elsewhere' });
    // A bare csv path is normalised to the csv source's full arguments.
    expect(config.data!.source.csv!.path).toBe(path.join(dir, 'data/fer.csv'));
    expect(config.data!.cache).toBe(path.resolve('/elsewhere', 'runs/.cache'));
  });

  it('extends fer:templates/... from the configs shipped with fer', () => {
    const dir = folder({ 'exp.yaml': 'extends: fer:templates/resnet.yaml\n' });
    const { config } = loadConfig(path.join(dir, 'exp.yaml'));
    expect(Object.keys(config.templates)).toContain('preact_basic_block');
  });

  it('lets --set win over every file and reports overrides at the command line', () => {
    const dir = folder({ 'exp.yaml': 'training: {epochs: 40}\n' });
    expect(loadConfig(path.join(dir, 'exp.yaml'), { overrides: ['training.epochs=2'] }).config.training.epochs).toBe(2);
    const error = errorsOf(() => loadConfig(path.join(dir, 'exp.yaml'), { overrides: ['training.epocs=2'] }));
    expect(error.diagnostics[0]).toMatchObject({ code: 'unknown-key', hint: 'did you mean `epochs`?', span: { file: '<command line>' } });
    expect(error.sources.get('<command line>')).toBe('training.epocs=2');
  });

  it('reports all the problems of a file at once', () => {
    const dir = folder({
      'exp.yaml': 'trainig: {}\nseed: -1\nfolds: {k: 1, strategy: stratifed}\nensemble: {members: [{model: nope}]}\n',
    });
    const error = errorsOf(() => loadConfig(path.join(dir, 'exp.yaml')));
    expect(error.diagnostics.map((d) => d.code).sort()).toEqual(['enum', 'range', 'range', 'unknown-key', 'unknown-model']);
    expect(error.diagnostics.map((d) => d.span!.start.line)).toEqual([1, 2, 3, 3, 4]);
  });

  it('loads every shipped config', () => {
    for (const name of ['ensemble16', 'cnn', 'resnet18', 'quick', 'hour', 'long', 'demo']) {
      const { config } = loadConfig(path.join(repoRoot, 'configs', `${name}.yaml`));
      expect(config.name).toBe(name);
    }
    // The baseline `npm run bench -- recipes` measures the recipes against.
    expect(loadConfig(path.join(repoRoot, 'bench', 'baselines', 'quick-previous.yaml')).config.name).toBe('quick-previous');
  });

  it('expresses the reference study in ensemble16', () => {
    const { config } = loadConfig(path.join(repoRoot, 'configs', 'ensemble16.yaml'));
    expect(config.training).toMatchObject({ epochs: 40, batch_size: 32, optimizer: { adam: { learning_rate: 1e-4 } } });
    expect(config.folds).toEqual({ k: 4, strategy: 'contiguous', final_fit: false });
    expect(config.data!.class_weight).toEqual({ majority_ratio: { noise_sigma: 0.2 } });
    expect(config.ensemble!.members.map((m) => [m.model, m.count])).toEqual([['cnn', 8], ['resnet18', 8]]);
  });
});
