import { describe, expect, it } from 'vitest';
import { flattenParams, PARAM_KEY_LIMIT, PARAM_VALUE_LIMIT } from '../../src/track/sinks/mlflow/params.js';
import { resolveMlflowSettings as resolveTrackingSettings } from '../../src/track/sinks/mlflow/settings.js';
import { redactUri } from '../../src/track/settings.js';

describe('config as MLflow params', () => {
  it('flattens to dotted keys, plain lists as one JSON value, lists of objects by index', () => {
    const { params } = flattenParams(
      { training: { epochs: 5, optimizer: { adam: { learning_rate: 0.001 } } }, data: { classes: ['a', 'b'], source: null }, models: { cnn: { layers: [{ conv2d: { filters: 8 } }, { flatten: {} }] } } },
      'config/params.json',
    );
    expect(params).toEqual({
      'training.epochs': '5',
      'training.optimizer.adam.learning_rate': '0.001',
      'data.classes': '["a","b"]',
      'data.source': 'null',
      'models.cnn.layers.0.conv2d.filters': '8',
      'models.cnn.layers.1.flatten': '{}',
    });
  });

  it('cuts values and keys MLflow would refuse, keeping them whole for the artifact', () => {
    const long = 'x'.repeat(PARAM_VALUE_LIMIT + 10);
    const key = 'k'.repeat(PARAM_KEY_LIMIT + 5);
    const { params, whole, shortened } = flattenParams({ note: long, [key]: 1 }, 'config/params.json');
    expect(params.note!.length).toBe(PARAM_VALUE_LIMIT);
    expect(params.note).toMatch(/cut; whole in config\/params\.json\)$/);
    expect(whole.note).toBe(long);
    expect(Object.keys(params).every((k) => k.length <= PARAM_KEY_LIMIT)).toBe(true);
    expect(shortened.sort()).toEqual([key, 'note'].sort());
  });
});

describe('tracking settings', () => {
  const env = { MLFLOW_TRACKING_URI: 'http://env:5000', MLFLOW_EXPERIMENT_NAME: 'from-env' };

  it('takes --tracking-uri over the config over MLFLOW_TRACKING_URI', () => {
    expect(resolveTrackingSettings({ cliUri: 'http://cli:1', config: { uri: 'http://config:2' }, configName: 'c', env }).uri).toBe('http://cli:1');
    expect(resolveTrackingSettings({ config: { uri: 'http://config:2' }, configName: 'c', env }).uriSource).toBe('tracking.uri');
    expect(resolveTrackingSettings({ configName: 'c', env }).uriSource).toBe('MLFLOW_TRACKING_URI');
    expect(resolveTrackingSettings({ configName: 'c', env: {} }).uri).toBeUndefined();
  });

  it('names the experiment from the config, then MLFLOW_EXPERIMENT_NAME, then the config name', () => {
    expect(resolveTrackingSettings({ config: { experiment: 'mine' }, configName: 'c', env }).experiment).toBe('mine');
    expect(resolveTrackingSettings({ configName: 'c', env }).experiment).toBe('from-env');
    expect(resolveTrackingSettings({ configName: 'c', env: {} }).experiment).toBe('c');
  });

  it('moves credentials out of the URI, and never prints them', () => {
    const s = resolveTrackingSettings({ configName: 'c', env: { MLFLOW_TRACKING_URI: 'https://ann:p%40ss@mlflow.example:443/base/' } });
    expect(s.uri).toBe('https://mlflow.example/base');
    expect(s.credentials).toEqual({ username: 'ann', password: 'p@ss' });
    expect(redactUri('https://ann:secret@host/x')).toBe('https://***@host/x');
    const token = resolveTrackingSettings({ configName: 'c', env: { MLFLOW_TRACKING_URI: 'http://h', MLFLOW_TRACKING_TOKEN: 't0k' } });
    expect(token.credentials).toEqual({ token: 't0k' });
  });

  // Issue 23: recording locally in silence made users believe their runs were in MLflow.
  it('refuses a file store URI by name (test/hostile/tracking-uri.test.ts has the other schemes)', () => {
    expect(() => resolveTrackingSettings({ configName: 'c', env: { MLFLOW_TRACKING_URI: 'file:///tmp/mlruns' } })).toThrow('is not supported');
  });
});
