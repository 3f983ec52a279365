import { describe, expect, it } from 'vitest';
import { FerError } from '../../src/core/errors.js';
import { resolveMlflowSettings } from '../../src/track/sinks/mlflow/settings.js';

const settings = (uri: string) => resolveMlflowSettings({ configName: 'x', env: { MLFLOW_TRACKING_URI: uri } });

describe('MLFLOW_TRACKING_URI schemes fer cannot send to', () => {
  it.each(['databricks', 'databricks://profile', 'file:///tmp/mlruns', './mlruns', 'sqlite:///mlflow.db'])('refuses %s by name instead of recording locally in silence', (uri) => {
    let error: unknown;
    try {
      settings(uri);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FerError);
    expect((error as FerError).message).toBe(`MLFLOW_TRACKING_URI=${uri} is not supported: fer sends runs to an MLflow tracking server over http(s) only`);
    expect((error as FerError).hint).toContain('--tracking-uri none');
  });

  it('takes http(s) servers, and none or nothing as the run folder only', () => {
    expect(settings('http://127.0.0.1:5000').uri).toBe('http://127.0.0.1:5000');
    expect(settings('none').uri).toBeUndefined();
    expect(resolveMlflowSettings({ configName: 'x', env: {} }).uri).toBeUndefined();
  });
});
