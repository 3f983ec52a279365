import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startEngine } from '../../src/backend/backend.js';
import { capabilities } from '../../src/backend/capabilities.js';
import { cpuCores, cpuFlags, instructionSets } from '../../src/backend/cpu-features.js';
import { listNvidiaGpus, visibleGpus } from '../../src/backend/devices.js';
import { appliedKernelChoice } from '../../src/backend/kernel-choice.js';
import type { Tf } from '../../src/core/tf.js';
import { repoRoot } from '../helpers/cli.js';

let tf: Tf;
beforeAll(async () => {
  tf = (await startEngine('tensorflow')).tf;
});

describe('the capabilities of the running backend', () => {
  it("on the native backend: fer's addon and every faster path, the CPU and the kernel choice", async () => {
    const engine = await startEngine('tensorflow');
    expect(engine.capabilities).toBe(capabilities(tf));
    expect(engine.capabilities).toMatchObject({
      backend: 'tensorflow',
      native: true,
      package: '@tensorflow/tfjs-node',
      device: 'cpu',
      // fer's own build of the addon (what .ci/run sets up), with oneDNN on (fer's default).
      ferAddon: true,
      oneDnn: true,
      nativeGradients: true,
      fusedConvolution: true,
      fusedBatchNorm: true,
      nativeWeightPenalty: true,
      statelessRandom: true,
      nativeOptimizers: true,
      recordedSteps: true,
      wasmTrainingKernels: false,
    });
    expect(engine.capabilities.tensorflow).toMatch(/^2\.\d+\.\d+$/);
    expect(engine.capabilities.devices.cpu).toEqual({ model: expect.any(String), cores: cpuCores(), instructionSets: instructionSets(cpuFlags()) });
    const choice = appliedKernelChoice();
    expect(engine.capabilities.kernels).toEqual({ setting: choice.setting, fusedConvolution: choice.fusedConvolution, largeFilterGradients: choice.largeFilterGradients, reason: choice.reason });
  });

  it('is one object per backend, computed once: switching to the cpu backend reads its own', async () => {
    const native = capabilities(tf);
    await tf.setBackend('cpu');
    try {
      const portable = capabilities(tf);
      expect(portable).toMatchObject({ backend: 'cpu', native: false, package: '@tensorflow/tfjs', ferAddon: false, fusedBatchNorm: false, statelessRandom: false, nativeOptimizers: false, recordedSteps: false, kernels: null });
      expect(capabilities(tf)).toBe(portable);
    } finally {
      await tf.setBackend('tensorflow');
    }
    expect(capabilities(tf)).toBe(native);
  });

  it("on wasm: fer's training kernels are registered", async () => {
    const wasm = await startEngine('wasm');
    try {
      expect(wasm.capabilities).toMatchObject({ backend: 'wasm', native: false, package: '@tensorflow/tfjs-backend-wasm', wasmTrainingKernels: true, recordedSteps: false });
    } finally {
      await tf.setBackend('tensorflow');
    }
  });

  it('is what every backend-dependent path reads: no other module compares backend names', () => {
    const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(path.join(dir, f)).isDirectory() ? files(path.join(dir, f)) : f.endsWith('.ts') ? [path.join(dir, f)] : []));
    const src = path.join(repoRoot, 'src');
    // setup/ holds the text of a script that checks an install, run in its own process.
    const comparing = files(src)
      .filter((f) => !f.startsWith(path.join(src, 'setup')))
      .filter((f) => /getBackend\(\)\s*[!=]==|\.backendName\s*[!=]==/.test(readFileSync(f, 'utf8')))
      .map((f) => path.relative(repoRoot, f));
    expect(comparing).toEqual([]);
  });
});

describe('the devices a run can place workers on', () => {
  it('lists NVIDIA GPUs in PCI order from the driver, else from /dev, and none without a driver', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'fer-devices-'));
    expect(listNvidiaGpus(root)).toEqual([]);
    mkdirSync(path.join(root, 'dev'));
    for (const f of ['nvidia1', 'nvidiactl', 'nvidia0', 'nvidia-uvm', 'nvidia10']) writeFileSync(path.join(root, 'dev', f), '');
    expect(listNvidiaGpus(root)).toEqual([{ name: '/dev/nvidia0' }, { name: '/dev/nvidia1' }, { name: '/dev/nvidia10' }]);
    for (const [address, model] of [['0000:af:00.0', 'Tesla V100-SXM2-16GB'], ['0000:3b:00.0', 'NVIDIA A100-SXM4-40GB']]) {
      mkdirSync(path.join(root, 'proc', 'driver', 'nvidia', 'gpus', address!), { recursive: true });
      writeFileSync(path.join(root, 'proc', 'driver', 'nvidia', 'gpus', address!, 'information'), `Model: \t\t ${model}\nIRQ:   \t\t 35\nDevice Minor: \t 0\n`);
    }
    expect(listNvidiaGpus(root)).toEqual([{ name: 'NVIDIA A100-SXM4-40GB' }, { name: 'Tesla V100-SXM2-16GB' }]);
  });

  it('narrows them to CUDA_VISIBLE_DEVICES as CUDA does', () => {
    const listed = [{ name: 'A' }, { name: 'B' }, { name: 'C' }];
    expect(visibleGpus(listed, {})).toEqual({ gpus: [{ id: '0', name: 'A' }, { id: '1', name: 'B' }, { id: '2', name: 'C' }], cudaDeviceOrder: 'PCI_BUS_ID' });
    expect(visibleGpus(listed, { CUDA_VISIBLE_DEVICES: '2,0' })).toEqual({ gpus: [{ id: '2', name: 'C' }, { id: '0', name: 'A' }] });
    expect(visibleGpus(listed, { CUDA_VISIBLE_DEVICES: '1', CUDA_DEVICE_ORDER: 'PCI_BUS_ID' })).toEqual({ gpus: [{ id: '1', name: 'B' }], cudaDeviceOrder: 'PCI_BUS_ID' });
    // An index that does not exist hides itself and every later one; UUIDs are kept as given.
    expect(visibleGpus(listed, { CUDA_VISIBLE_DEVICES: '1,7,0' }).gpus).toEqual([{ id: '1', name: 'B' }]);
    expect(visibleGpus(listed, { CUDA_VISIBLE_DEVICES: 'GPU-8a1f' }).gpus).toEqual([{ id: 'GPU-8a1f', name: 'GPU GPU-8a1f' }]);
    expect(visibleGpus(listed, { CUDA_VISIBLE_DEVICES: '' }).gpus).toEqual([]);
    expect(visibleGpus(listed, { CUDA_VISIBLE_DEVICES: '-1' }).gpus).toEqual([]);
  });
});
