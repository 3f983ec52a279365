import { describe, expect, it } from 'vitest';
import type { Devices } from '../../src/backend/devices.js';
import { placeWorkers } from '../../src/run/pool.js';

/**
 * The worker-placement policy, on device lists: no machine fer is developed or tested on has a GPU,
 * so the GPU placement is checked here and nowhere on hardware.
 */
const cpu = (cores: number): Devices['cpu'] => ({ model: 'test CPU', cores, instructionSets: ['avx2'] });
const machine = (cores: number, gpus: string[] = [], cudaDeviceOrder?: string): Devices => ({
  cpu: cpu(cores),
  gpus: gpus.map((name, i) => ({ id: String(i), name })),
  ...(cudaDeviceOrder ? { cudaDeviceOrder } : {}),
});
const native = (devices: Devices, pkg = '@tensorflow/tfjs-node') => ({ backend: 'tensorflow', package: pkg, devices });
const gpuPackage = '@tensorflow/tfjs-node-gpu';

describe('worker placement on the CPU', () => {
  it('puts one worker on each core, with one TensorFlow thread each', () => {
    const p = placeWorkers(native(machine(8)), 64);
    expect(p).toMatchObject({ workers: 8, threads: 1, gpus: [], summary: '' });
    expect(p.env(0)).toEqual({});
  });

  it('shares the cores out as threads when there are fewer tasks than cores', () => {
    expect(placeWorkers(native(machine(8)), 3)).toMatchObject({ workers: 3, threads: 2 });
    expect(placeWorkers(native(machine(2)), 1)).toMatchObject({ workers: 1, threads: 2 });
  });

  it('gives wasm and cpu workers one thread: TensorFlow\'s threads are the native backend\'s', () => {
    expect(placeWorkers({ backend: 'wasm', devices: machine(4) }, 2)).toMatchObject({ workers: 2, threads: 1 });
    expect(placeWorkers({ backend: 'cpu', devices: machine(4) }, 9)).toMatchObject({ workers: 4, threads: 1 });
  });

  it('takes --workers and engine.threads as given, never more workers than tasks', () => {
    expect(placeWorkers(native(machine(8)), 64, { workers: 2 })).toMatchObject({ workers: 2, threads: 4 });
    expect(placeWorkers(native(machine(8)), 64, { workers: 2, threads: 3 })).toMatchObject({ workers: 2, threads: 3 });
    expect(placeWorkers(native(machine(8)), 3, { workers: 6 })).toMatchObject({ workers: 3, threads: 2 });
    // engine.threads: null is the default (TensorFlow's own), not a value.
    expect(placeWorkers(native(machine(8)), 64, { threads: null })).toMatchObject({ workers: 8, threads: 1 });
  });

  it('ignores GPUs the backend cannot use: tfjs-node is a CPU build, wasm and cpu run on the CPU', () => {
    const withGpus = machine(4, ['Tesla T4', 'Tesla T4']);
    expect(placeWorkers(native(withGpus), 16)).toMatchObject({ workers: 4, threads: 1, gpus: [] });
    expect(placeWorkers({ backend: 'wasm', package: gpuPackage, devices: withGpus }, 16)).toMatchObject({ workers: 4, gpus: [] });
  });
});

describe('worker placement on GPUs (device lists only: untested on hardware)', () => {
  it('puts one worker on each GPU, pinned with CUDA_VISIBLE_DEVICES in PCI order, the cores shared out as threads', () => {
    const p = placeWorkers(native(machine(16, ['A100', 'A100', 'A100', 'A100'], 'PCI_BUS_ID'), gpuPackage), 64);
    expect(p).toMatchObject({ workers: 4, threads: 4, gpus: ['0', '1', '2', '3'], summary: ', one per GPU (0, 1, 2, 3)' });
    expect([0, 1, 2, 3].map((w) => p.env(w))).toEqual(['0', '1', '2', '3'].map((id) => ({ CUDA_VISIBLE_DEVICES: id, CUDA_DEVICE_ORDER: 'PCI_BUS_ID' })));
  });

  it('uses only as many GPUs as there are tasks', () => {
    expect(placeWorkers(native(machine(8, ['T4', 'T4', 'T4']), gpuPackage), 2)).toMatchObject({ workers: 2, threads: 4, gpus: ['0', '1'] });
  });

  it('keeps the ids of a CUDA_VISIBLE_DEVICES the user set, under the user\'s device order', () => {
    const devices: Devices = { cpu: cpu(4), gpus: [{ id: '2', name: 'T4' }, { id: 'GPU-5f2c', name: 'GPU GPU-5f2c' }] };
    const p = placeWorkers(native(devices, gpuPackage), 10);
    expect(p.gpus).toEqual(['2', 'GPU-5f2c']);
    expect(p.env(1)).toEqual({ CUDA_VISIBLE_DEVICES: 'GPU-5f2c' });
  });

  it('with more workers than GPUs (--workers) gives them out in turn, each growing its memory as needed', () => {
    const p = placeWorkers(native(machine(8, ['T4', 'T4'], 'PCI_BUS_ID'), gpuPackage), 10, { workers: 4 });
    expect(p).toMatchObject({ workers: 4, threads: 2, gpus: ['0', '1', '0', '1'], summary: ', 4 workers on 2 GPUs in turn (0, 1, 0, 1)' });
    expect(p.env(2)).toEqual({ CUDA_VISIBLE_DEVICES: '0', CUDA_DEVICE_ORDER: 'PCI_BUS_ID', TF_FORCE_GPU_ALLOW_GROWTH: 'true' });
  });

  it('falls back to the CPU placement when the GPU package sees no GPU', () => {
    expect(placeWorkers(native(machine(2), gpuPackage), 4)).toMatchObject({ workers: 2, threads: 1, gpus: [] });
  });
});
