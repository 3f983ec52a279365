import { describe, expect, it } from 'vitest';
import { runFer } from '../helpers/cli.js';

describe('fer doctor', () => {
  it('reports the native TensorFlow backend as available and chosen (run `fer setup native` first)', async () => {
    const result = await runFer(['doctor', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      backend: string;
      backends: Record<string, { available: boolean; reason: string; addon?: string }>;
      graph_steps: boolean;
    };
    expect(report.backends.tensorflow, 'the native backend is missing: run `npx fer setup native`').toMatchObject({ available: true });
    expect(report.backends.tensorflow!.reason).toMatch(/TensorFlow 2\.\d+/);
    // fer's own build of the addon, with TensorFlow's fused convolutions (what .ci/run sets up).
    expect(report.backends.tensorflow!.addon).toBe('fer');
    expect(report.backend).toBe('tensorflow');
    // ... which can record training steps as TensorFlow functions.
    expect(report.graph_steps).toBe(true);
    expect(report.backends.wasm).toMatchObject({ available: true });
    expect(report.backends.cpu).toMatchObject({ available: true });
  });

  it('explains a backend it cannot use', async () => {
    const result = await runFer(['doctor', '--json'], { env: { NODE_PATH: '' } });
    const report = JSON.parse(result.stdout) as { backends: Record<string, { reason: string }> };
    for (const status of Object.values(report.backends)) expect(status.reason.length).toBeGreaterThan(10);
  });
});
