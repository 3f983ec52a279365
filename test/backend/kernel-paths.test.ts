import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseKernels } from '../../src/backend/kernel-choice.js';
import { cpuFlags } from '../../src/backend/cpu-features.js';
import { repoRoot, runFer } from '../helpers/cli.js';
import { tempDir } from '../helpers/data.js';

/**
 * Both of the kernel paths fer chooses between by the CPU (kernel-choice.ts), on whatever CPU runs
 * the tests: each forced with FER_KERNELS in a process of its own, checked against the cpu backend's
 * result, and with oneDNN's own log (ONEDNN_VERBOSE=1) saying which of its kernels really ran.
 */
interface PathResult {
  kernels: { setting: string; fusedConvolution: string; largeFilterGradients: string; reason: string };
  counts: { fusedConvolutions: number; oneDnnFusedConvolutions: number; eigenFilterGradients: number };
  outputError: number;
  gradientErrors: number[];
  /** oneDNN's log lines of primitives it ran. */
  oneDnn: string[];
}

function runPath(env: Record<string, string>): Promise<PathResult> {
  const script = path.join(repoRoot, 'test', 'fixtures', 'kernels', 'kernel-paths.ts');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot, env: { ...process.env, FER_KERNELS: undefined, FER_FILTER_GRADIENTS: undefined, ...env, ONEDNN_VERBOSE: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = stdout.trim().split('\n');
      if (code !== 0) return reject(new Error(`kernel-paths.ts exited with ${code}: ${stderr.slice(-2000)}`));
      resolve({ ...(JSON.parse(lines.at(-1)!) as Omit<PathResult, 'oneDnn'>), oneDnn: lines.filter((l) => l.startsWith('onednn_verbose,') && l.includes(',primitive,exec,')) });
    });
  });
}

/** oneDNN convolutions run forward with a bias: its fused kernel (plain convolutions have `bia:undef`). */
const fusedForward = (lines: string[]) => lines.filter((l) => l.includes(',convolution,') && /,forward_(training|inference),/.test(l) && l.includes('bia:f32')).length;
const backwardWeights = (lines: string[]) => lines.filter((l) => l.includes(',convolution,') && l.includes(',backward_weights,')).length;

describe('the kernel paths chosen by the CPU, each forced on this CPU', () => {
  it("FER_KERNELS=onednn: oneDNN's fused convolutions and filter gradients run, and give the cpu backend's results", async () => {
    const result = await runPath({ FER_KERNELS: 'onednn' });
    expect(result.kernels).toEqual({ setting: 'onednn', fusedConvolution: 'onednn', largeFilterGradients: 'onednn', reason: 'FER_KERNELS=onednn' });
    // Two convolutions with a bias, in two forward passes; three filter gradients.
    expect(result.counts).toEqual({ fusedConvolutions: 4, oneDnnFusedConvolutions: 4, eigenFilterGradients: 0 });
    expect(fusedForward(result.oneDnn), result.oneDnn.join('\n')).toBeGreaterThanOrEqual(4);
    expect(backwardWeights(result.oneDnn), result.oneDnn.join('\n')).toBe(3);
    expect(result.outputError).toBeLessThan(1e-5);
    result.gradientErrors.forEach((e, i) => expect(e, `weight ${i}`).toBeLessThan(1e-5));
  });

  it("FER_KERNELS=eigen: TensorFlow's own kernels run (oneDNN runs neither), and give the cpu backend's results", async () => {
    const result = await runPath({ FER_KERNELS: 'eigen' });
    expect(result.kernels).toEqual({ setting: 'eigen', fusedConvolution: 'eigen', largeFilterGradients: 'eigen', reason: 'FER_KERNELS=eigen' });
    expect(result.counts).toEqual({ fusedConvolutions: 4, oneDnnFusedConvolutions: 0, eigenFilterGradients: 3 });
    expect(fusedForward(result.oneDnn), result.oneDnn.join('\n')).toBe(0);
    expect(backwardWeights(result.oneDnn), result.oneDnn.join('\n')).toBe(0);
    expect(result.outputError).toBeLessThan(1e-5);
    result.gradientErrors.forEach((e, i) => expect(e, `weight ${i}`).toBeLessThan(1e-5));
  });

  it('unset, the choice this CPU makes', async () => {
    const result = await runPath({});
    const choice = chooseKernels(cpuFlags());
    expect(result.kernels).toEqual({ setting: 'auto', fusedConvolution: choice.fusedConvolution, largeFilterGradients: choice.largeFilterGradients, reason: choice.reason });
    expect(backwardWeights(result.oneDnn)).toBe(choice.largeFilterGradients === 'onednn' ? 3 : 0);
  });

  it('a run records the setting it trained with, and its workers start with it', async () => {
    const runs = tempDir('fer-kernels-');
    const result = await runFer(['run', 'configs/demo.yaml', '--runs', runs, '--workers', '1', '--set', 'training.epochs=1', '--set', 'ensemble.members=[{model: tiny, count: 1}]'], {
      env: { FER_KERNELS: 'onednn', MLFLOW_TRACKING_URI: '' },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("kernels: oneDNN's fused convolutions, oneDNN's large filter gradients (FER_KERNELS=onednn)");
    const experiment = path.join(runs, 'demo');
    const manifest = JSON.parse(readFileSync(path.join(experiment, readdirSync(experiment)[0]!, 'run.json'), 'utf8')) as { kernels: Record<string, string> };
    expect(manifest.kernels).toEqual({ setting: 'onednn', fusedConvolution: 'onednn', largeFilterGradients: 'onednn', reason: 'FER_KERNELS=onednn', cpu: expect.stringMatching(/\d+ cores?/) });
  }, 120_000);
});
