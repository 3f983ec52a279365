import { describe, expect, it } from 'vitest';
import { chooseKernels } from '../../src/backend/kernel-choice.js';
import { cpuCores, cpuFlags, cpuModel, instructionSets } from '../../src/backend/cpu-features.js';
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

  it('shows the CPU, the instruction sets and the kernels they chose, the capabilities and the workers a run would place', async () => {
    const result = await runFer(['doctor', '--json'], { env: { FER_KERNELS: undefined, FER_FILTER_GRADIENTS: undefined } });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      cores: number;
      cpu: { model: string; instruction_sets: string[] };
      kernels: Record<string, string>;
      capabilities: Record<string, unknown>;
      placement: { workers: number; threads: number; gpus: string[] };
    };
    expect(report.cpu).toEqual({ model: cpuModel(), instruction_sets: instructionSets(cpuFlags()) });
    const choice = chooseKernels(cpuFlags());
    expect(report.kernels).toEqual({ setting: 'auto', fusedConvolution: choice.fusedConvolution, largeFilterGradients: choice.largeFilterGradients, reason: choice.reason });
    expect(report.capabilities).toMatchObject({ backend: 'tensorflow', native: true, device: 'cpu', ferAddon: true, fusedConvolution: true, fusedBatchNorm: true, nativeOptimizers: true, recordedSteps: true, kernels: report.kernels });
    // No GPU here: one worker per core, the cores shared out as threads.
    expect(report.placement).toEqual({ workers: cpuCores(), threads: 1, gpus: [] });
    const text = await runFer(['doctor']);
    expect(text.stdout).toContain(`CPU: ${cpuModel()}, ${cpuCores()} core`);
    expect(text.stdout).toMatch(/^kernels: fused convolution (onednn|eigen), large filter gradients (onednn|eigen) \(/m);
  });

  it('says which kernels FER_KERNELS forced, and refuses a value it does not know', async () => {
    const forced = await runFer(['doctor', '--json'], { env: { FER_KERNELS: 'eigen' } });
    expect(forced.code, forced.stderr).toBe(0);
    expect((JSON.parse(forced.stdout) as { kernels: unknown }).kernels).toEqual({ setting: 'eigen', fusedConvolution: 'eigen', largeFilterGradients: 'eigen', reason: 'FER_KERNELS=eigen' });
    const wrong = await runFer(['doctor'], { env: { FER_KERNELS: 'mkl' } });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('FER_KERNELS=mkl is not one of auto, onednn, eigen');
  });

  it('explains a backend it cannot use', async () => {
    const result = await runFer(['doctor', '--json'], { env: { NODE_PATH: '' } });
    const report = JSON.parse(result.stdout) as { backends: Record<string, { reason: string }> };
    for (const status of Object.values(report.backends)) expect(status.reason.length).toBeGreaterThan(10);
  });
});
