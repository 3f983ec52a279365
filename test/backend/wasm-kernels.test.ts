import type * as tfjs from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { startEngine } from '../../src/backend/backend.js';
import type { Tf } from '../../src/core/tf.js';
import { relativeError } from '../helpers/numeric.js';

let tf: Tf;
beforeAll(async () => {
  tf = (await startEngine('wasm')).tf;
});

type Op = (x: tfjs.Tensor4D, w: tfjs.Tensor4D) => tfjs.Tensor4D;

/** Gradients of sum(op(x, w) * r) with respect to x and w, on one backend. */
async function gradients(backend: string, op: Op, x: number[][], shapes: [number[], number[]], seed: number) {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const xs = tf.tensor4d(Float32Array.from(x[0]!), shapes[0] as [number, number, number, number]);
    const ws = tf.tensor4d(Float32Array.from(x[1]!), shapes[1] as [number, number, number, number]);
    const out = op(xs, ws);
    const r = tf.randomUniform(out.shape, -1, 1, 'float32', seed);
    const [gx, gw] = tf.grads((a, b) => tf.sum(tf.mul(op(a as tfjs.Tensor4D, b as tfjs.Tensor4D), r)))([xs, ws]);
    return [gx!.dataSync() as Float32Array, gw!.dataSync() as Float32Array];
  });
}

function random(size: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: size }, () => {
    s = (s * 1664525 + 1013904223) % 4294967296;
    return s / 4294967296 - 0.5;
  });
}

const product = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

describe('wasm training kernels match the cpu backend', () => {
  const cases = [];
  for (const strides of [1, 2]) for (const pad of ['same', 'valid'] as const) for (const k of [1, 3, 7]) cases.push({ strides, pad, k });

  it.each(cases)('conv2d gradients: kernel $k, strides $strides, $pad', async ({ strides, pad, k }) => {
    const xShape = [2, 13, 11, 3];
    const wShape = [k, k, 3, 4];
    const values = [random(product(xShape), 1), random(product(wShape), 2)];
    const op: Op = (x, w) => tf.conv2d(x, w, strides, pad);
    const [cpuX, cpuW] = await gradients('cpu', op, values, [xShape, wShape], 3);
    const [wasmX, wasmW] = await gradients('wasm', op, values, [xShape, wShape], 3);
    expect(relativeError(wasmW!, cpuW!)).toBeLessThan(1e-4);
    expect(relativeError(wasmX!, cpuX!)).toBeLessThan(1e-4);
  });

  it.each(cases.flatMap((c) => [{ ...c, m: 1 }, { ...c, m: 2 }]))('depthwise gradients: kernel $k, strides $strides, $pad, multiplier $m', async ({ strides, pad, k, m }) => {
    const xShape = [2, 9, 10, 3];
    const wShape = [k, k, 3, m];
    const values = [random(product(xShape), 4), random(product(wShape), 5)];
    const op: Op = (x, w) => tf.depthwiseConv2d(x, w, strides, pad);
    const [cpuX, cpuW] = await gradients('cpu', op, values, [xShape, wShape], 6);
    const [wasmX, wasmW] = await gradients('wasm', op, values, [xShape, wShape], 6);
    expect(relativeError(wasmW!, cpuW!)).toBeLessThan(1e-4);
    expect(relativeError(wasmX!, cpuX!)).toBeLessThan(1e-4);
  });

  it('handles rectangular filters and leaks no tensors', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const xShape = [1, 8, 9, 2];
    const wShape = [3, 2, 2, 5];
    const values = [random(product(xShape), 7), random(product(wShape), 8)];
    const op: Op = (x, w) => tf.conv2d(x, w, [2, 1], 'same');
    const [cpuX, cpuW] = await gradients('cpu', op, values, [xShape, wShape], 9);
    const [wasmX, wasmW] = await gradients('wasm', op, values, [xShape, wShape], 9);
    expect(relativeError(wasmW!, cpuW!)).toBeLessThan(1e-4);
    expect(relativeError(wasmX!, cpuX!)).toBeLessThan(1e-4);
    await tf.setBackend('wasm');
    expect(tf.memory().numTensors).toBe(before);
  });
});
