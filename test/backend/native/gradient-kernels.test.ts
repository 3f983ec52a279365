import type * as tfjs from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startEngine } from '../../../src/backend/backend.js';
import { EIGEN_FILTER_GRADIENT, eigenFilterGradientStats, eigenFilterGradientsPreferred, im2colFilterGradientStats, oneDnnMaxPoolGradientStats } from '../../../src/backend/native/gradient-kernels.js';
import type { Tf } from '../../../src/core/tf.js';
import { relativeError } from '../../helpers/numeric.js';

let tf: Tf;
beforeAll(async () => {
  tf = (await startEngine('tensorflow')).tf;
});

interface Case {
  size: number;
  inChannels: number;
  outChannels: number;
  kernel: number;
  strides: number;
  padding: 'same' | 'valid';
  im2col: boolean;
}

/** The filter gradient of sum(conv2d(x, w) * r) on the current backend. */
function filterGradient(c: Case, x: Float32Array, w: Float32Array, r: Float32Array, outShape: number[]): Float32Array {
  const xs = tf.tensor4d(x, [3, c.size, c.size, c.inChannels]);
  const ws = tf.tensor4d(w, [c.kernel, c.kernel, c.inChannels, c.outChannels]);
  const rs = tf.tensor(r, outShape);
  const grad = tf.grad((filter: tfjs.Tensor) => tf.sum(tf.mul(tf.conv2d(xs, filter as tfjs.Tensor4D, c.strides, c.padding), rs)))(ws);
  const values = grad.dataSync() as Float32Array;
  tf.dispose([xs, ws, rs, grad]);
  return values;
}

/**
 * Random inputs from `seed`; the native backend's filter gradient must take the path `counter` counts
 * `expectedCalls` times and equal the cpu backend's (relative error < 1e-4).
 */
async function expectFilterGradientLikeCpu(c: Case, seed: number, counter: { calls: number }, expectedCalls: number): Promise<void> {
  const outSize = c.padding === 'same' ? Math.ceil(c.size / c.strides) : Math.ceil((c.size - c.kernel + 1) / c.strides);
  const outShape = [3, outSize, outSize, c.outChannels];
  const x = tf.randomNormal([3, c.size, c.size, c.inChannels], 0, 1, 'float32', seed).dataSync() as Float32Array;
  const w = tf.randomNormal([c.kernel, c.kernel, c.inChannels, c.outChannels], 0, 1, 'float32', seed + 1).dataSync() as Float32Array;
  const r = tf.randomNormal(outShape, 0, 1, 'float32', seed + 2).dataSync() as Float32Array;
  const before = counter.calls;
  const native = filterGradient(c, x, w, r, outShape);
  expect(counter.calls - before).toBe(expectedCalls);
  await tf.setBackend('cpu');
  try {
    const portable = filterGradient(c, x, w, r, outShape);
    expect(relativeError(native, portable)).toBeLessThan(1e-4);
  } finally {
    await tf.setBackend('tensorflow');
  }
}

describe('im2col filter gradient on the native backend', () => {
  it.each<Case>([
    // Small outputs (at most 3x3) take the im2col path: ResNet-18's later stages and their projections.
    { size: 2, inChannels: 24, outChannels: 16, kernel: 3, strides: 1, padding: 'same', im2col: true },
    { size: 3, inChannels: 8, outChannels: 12, kernel: 3, strides: 2, padding: 'same', im2col: true },
    { size: 3, inChannels: 16, outChannels: 8, kernel: 1, strides: 2, padding: 'valid', im2col: true },
    { size: 5, inChannels: 4, outChannels: 6, kernel: 3, strides: 1, padding: 'valid', im2col: true },
    { size: 6, inChannels: 5, outChannels: 7, kernel: 3, strides: 2, padding: 'same', im2col: true },
    { size: 3, inChannels: 6, outChannels: 5, kernel: 1, strides: 1, padding: 'same', im2col: true },
    { size: 7, inChannels: 3, outChannels: 4, kernel: 7, strides: 2, padding: 'same', im2col: false },
    // Larger outputs keep TensorFlow's own kernel.
    { size: 12, inChannels: 6, outChannels: 8, kernel: 3, strides: 1, padding: 'same', im2col: false },
  ])('$size x $size, $inChannels -> $outChannels, kernel $kernel, stride $strides, $padding: equals the cpu backend (relative error < 1e-4)', async (c) => {
    await expectFilterGradientLikeCpu(c, 1, im2colFilterGradientStats, c.im2col ? 1 : 0);
  });

  it("runs inside a model's training step without leaking tensors", () => {
    const model = tf.sequential({
      layers: [tf.layers.conv2d({ inputShape: [4, 4, 8], filters: 8, kernelSize: 3, strides: 2, padding: 'same' }), tf.layers.flatten(), tf.layers.dense({ units: 2 })],
    });
    const variables = model.trainableWeights.map((v) => v.read() as tfjs.Variable);
    const x = tf.randomNormal([2, 4, 4, 8], 0, 1, 'float32', 4);
    const step = () => tf.tidy(() => tf.variableGrads(() => tf.sum(model.apply(x) as tfjs.Tensor) as tfjs.Scalar, variables).grads[variables[0]!.name]!.dataSync());
    step();
    const tensors = tf.memory().numTensors;
    const before = im2colFilterGradientStats.calls;
    step();
    expect(im2colFilterGradientStats.calls).toBe(before + 1);
    expect(tf.memory().numTensors).toBe(tensors);
    tf.dispose([x]);
    model.dispose();
  });
});

describe("large filter gradients by TensorFlow's own kernel (explicit padding)", () => {
  it.each<Case>([
    { size: 12, inChannels: 6, outChannels: 8, kernel: 3, strides: 1, padding: 'valid', im2col: false },
    { size: 12, inChannels: 6, outChannels: 8, kernel: 3, strides: 1, padding: 'same', im2col: false },
    { size: 11, inChannels: 4, outChannels: 5, kernel: 3, strides: 2, padding: 'same', im2col: false },
    { size: 10, inChannels: 3, outChannels: 4, kernel: 2, strides: 1, padding: 'valid', im2col: false },
    { size: 9, inChannels: 2, outChannels: 6, kernel: 5, strides: 2, padding: 'same', im2col: false },
  ])('$size x $size, $inChannels -> $outChannels, kernel $kernel, stride $strides, $padding: equals the cpu backend (relative error < 1e-4)', async (c) => {
    const saved = { ...EIGEN_FILTER_GRADIENT };
    // The real threshold is ~1 GFLOP, far beyond what the cpu backend computes in a test's time;
    // and the path is taken whatever this machine's CPU would choose.
    Object.assign(EIGEN_FILTER_GRADIENT, { minFlops: 1, enabled: true });
    try {
      await expectFilterGradientLikeCpu(c, 7, eigenFilterGradientStats, 1);
    } finally {
      Object.assign(EIGEN_FILTER_GRADIENT, saved);
    }
  });

  it('is chosen on CPUs with AVX2 but without AVX-512, unless FER_FILTER_GRADIENTS says otherwise', () => {
    expect(eigenFilterGradientsPreferred(['fpu', 'sse4_2', 'avx2', 'fma'], undefined)).toBe(true);
    expect(eigenFilterGradientsPreferred(['avx2', 'fma', 'avx512f', 'avx512_vnni'], undefined)).toBe(false);
    expect(eigenFilterGradientsPreferred([], undefined)).toBe(false);
    expect(eigenFilterGradientsPreferred(['avx2', 'avx512f'], 'eigen')).toBe(true);
    expect(eigenFilterGradientsPreferred(['avx2'], 'onednn')).toBe(false);
  });

  it('is taken by the reference CNN at its real threshold, for its large layers only', () => {
    const enabled = EIGEN_FILTER_GRADIENT.enabled;
    EIGEN_FILTER_GRADIENT.enabled = true;
    onTestFinished(() => {
      EIGEN_FILTER_GRADIENT.enabled = enabled;
    });
    // The reference CNN's 3x3 layers on 40-44 pixel maps (2-7 GFLOP at batch 32), at batch 8: the
    // 40x40x64 -> 128 layer alone stays above 1 GFLOP.
    const x = tf.randomUniform([8, 40, 40, 64], 0, 1, 'float32', 10) as tfjs.Tensor4D;
    const w = tf.randomNormal([3, 3, 64, 128], 0, 0.1, 'float32', 11);
    const small = tf.randomNormal([8, 12, 12, 16], 0, 1, 'float32', 12) as tfjs.Tensor4D;
    const ws = tf.randomNormal([3, 3, 16, 16], 0, 0.1, 'float32', 13);
    const before = eigenFilterGradientStats.calls;
    const large = tf.tidy(() => tf.grad((filter: tfjs.Tensor) => tf.sum(tf.conv2d(x, filter as tfjs.Tensor4D, 1, 'valid')))(w).dataSync());
    expect(eigenFilterGradientStats.calls).toBe(before + 1);
    tf.tidy(() => tf.grad((filter: tfjs.Tensor) => tf.sum(tf.conv2d(small, filter as tfjs.Tensor4D, 1, 'same')))(ws).dataSync());
    expect(eigenFilterGradientStats.calls).toBe(before + 1);
    // The gradient of sum(conv(x, w)) over w[i, j, c, o] is the sum of x's window: the same for every o.
    const window = tf.tidy(() => tf.slice(x, [0, 0, 0, 0], [8, 38, 38, 1]).dataSync() as Float32Array);
    const expected = window.reduce((sum, v) => sum + v, 0);
    expect(Math.abs(large[0]! - expected) / Math.abs(expected)).toBeLessThan(1e-4);
    expect(Math.abs(large[127]! - expected) / Math.abs(expected)).toBeLessThan(1e-4);
    tf.dispose([x, w, small, ws]);
  });
});

describe("max-pooling gradient by oneDNN's kernels on the native backend", () => {
  it.each([
    { shape: [4, 12, 12, 5], size: 2, strides: 2, padding: 'valid' as const },
    { shape: [3, 11, 9, 4], size: 3, strides: 2, padding: 'same' as const },
    { shape: [2, 15, 15, 3], size: 2, strides: 2, padding: 'valid' as const },
    { shape: [2, 8, 8, 3], size: 3, strides: 1, padding: 'same' as const },
  ])('$shape, window $size, stride $strides, $padding: equals the cpu backend, ties included (relative error < 1e-6)', async ({ shape, size, strides, padding }) => {
    // ReLU'd and rounded values: many windows hold equal maxima (all zeros, or repeated integers),
    // where the gradient must go to the same element as tfjs's and TensorFlow's own kernels send it.
    const values = tf.tidy(() => tf.round(tf.relu(tf.randomNormal(shape, 0, 2, 'float32', 5)))).dataSync() as Float32Array;
    const dy = (x: tfjs.Tensor4D) => tf.randomNormal(tf.maxPool(x, size, strides, padding).shape, 0, 1, 'float32', 6);
    const gradient = () =>
      tf.tidy(() => {
        const x = tf.tensor4d(values, shape as [number, number, number, number]);
        const r = dy(x);
        return tf.grad((input: tfjs.Tensor) => tf.sum(tf.mul(tf.maxPool(input as tfjs.Tensor4D, size, strides, padding), r)))(x).dataSync();
      });
    const before = oneDnnMaxPoolGradientStats.calls;
    const native = gradient();
    expect(oneDnnMaxPoolGradientStats.calls).toBe(before + 1);
    await tf.setBackend('cpu');
    try {
      // Where windows overlap, an element sums the gradients of several windows, in an order that
      // differs between kernels (TensorFlow's eager kernel too differs from the cpu backend by ~2e-7);
      // a gradient sent to the wrong element of a tie would be off by O(1).
      expect(relativeError(native, gradient())).toBeLessThan(1e-6);
    } finally {
      await tf.setBackend('tensorflow');
    }
  });
});
