import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { completeDataSection, normalizeItem } from '../../src/config/normalize.js';
import { modelInputShape } from '../../src/config/shape.js';
import { builtinRegistry } from '../../src/registry/index.js';
import { pathFields } from '../../src/schema/paths.js';
import { configDigest } from '../../src/store/run-folder.js';
import { repoRoot } from '../helpers/cli.js';

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'fer-normalize-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

describe('the normalised config', () => {
  it('writes every item out with all its arguments, defaults from the registry entries', () => {
    const dir = folder({
      'exp.yaml': [
        'data:',
        '  source: {csv: data.csv}',
        '  preprocess: [subtract_mean, {scale: {}}, {resize: {height: 32, width: 32}}]',
        '  augment: [flip_horizontal, {rotate: {max_degrees: 5}}]',
        '  class_weight: majority_ratio',
        'training:',
        '  optimizer: {sgd: {momentum: 0.9}}',
        '  schedule: cosine',
        '  early_stopping: {patience: 2}',
        '  callbacks: [early_stopping]',
        '',
      ].join('\n'),
    });
    const { config } = loadConfig(path.join(dir, 'exp.yaml'));
    const data = config.data!;
    expect(data.source).toEqual({ csv: { path: path.join(dir, 'data.csv'), label_column: 'emotion', pixels_column: 'pixels', split_column: 'Usage', splits: ['Training', 'PublicTest', 'PrivateTest'] } });
    expect(data.preprocess).toEqual([{ subtract_mean: { per: 'dataset' } }, { scale: { factor: 1 / 255 } }, { resize: { height: 32, width: 32 } }]);
    expect(data.augment).toEqual([{ flip_horizontal: { probability: 0.5 } }, { rotate: { max_degrees: 5 } }]);
    expect(data.class_weight).toEqual({ majority_ratio: { noise_sigma: 0 } });
    expect(config.training.optimizer).toEqual({ sgd: { momentum: 0.9, learning_rate: 0.01, nesterov: false } });
    expect(config.training.schedule).toEqual({ cosine: { warmup_epochs: 0, min_learning_rate: 0 } });
    expect(config.training.early_stopping).toEqual({ monitor: 'val_loss', patience: 2, min_delta: 0, restore_best: true });
    expect(config.training.callbacks).toEqual([{ early_stopping: { monitor: 'val_loss', patience: 5, min_delta: 0, restore_best: true } }]);
    // The models' input shape follows the steps' entries (resize here).
    expect(modelInputShape(config, builtinRegistry())).toEqual([32, 32, 1]);
  });

  it('is stable: the same YAML gives the same digest, and the written-out config loads back to itself', () => {
    const file = path.join(repoRoot, 'configs', 'ensemble16.yaml');
    const first = loadConfig(file).config;
    expect(configDigest(loadConfig(file).config)).toBe(configDigest(first));
    const dir = folder({ 'config.resolved.yaml': stringify(first) });
    const again = loadConfig(path.join(dir, 'config.resolved.yaml')).config;
    expect(again).toEqual(first);
    expect(configDigest(again)).toBe(configDigest(first));
  });

  it('gives one item in full to code handed a spec, and says what is missing', () => {
    const registry = builtinRegistry();
    expect(normalizeItem(registry, 'loss', 'categorical_crossentropy')).toEqual({ categorical_crossentropy: { label_smoothing: 0 } });
    expect(normalizeItem(registry, 'source', { folder: '/data/faces' })).toEqual({ folder: { path: '/data/faces' } });
    expect(() => normalizeItem(registry, 'preprocessing', 'resize')).toThrow('`resize` needs `height` and `width`');
    expect(() => normalizeItem(registry, 'optimizer', 'adma')).toThrow('unknown optimizer `adma`');
    // A data section for a bare path (fer data inspect): the schema's defaults, not restated ones.
    const data = completeDataSection({ source: { csv: '/data/fer.csv' }, cache: '/tmp/cache' });
    expect(data).toMatchObject({ classes: ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'], image: { height: 48, width: 48, channels: 1 }, preprocess: [], augment: [], class_weight: 'none' });
    expect(data.source.csv).toMatchObject({ path: '/data/fer.csv', label_column: 'emotion' });
  });

  it('finds the path fields from `format: path` in the schema', () => {
    const fields = pathFields(builtinRegistry()).map((p) => p.join('.'));
    expect(fields).toEqual(
      expect.arrayContaining(['data.source.csv', 'data.source.csv.path', 'data.source.folder', 'data.source.folder.path', 'data.cache', 'models.*.init.run', 'models.*.init.model']),
    );
    expect(fields).not.toContain('data.source.synthetic');
  });
});
