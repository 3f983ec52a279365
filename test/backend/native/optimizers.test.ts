import { beforeAll, describe, expect, it } from 'vitest';
import { startEngine } from '../../../src/backend/backend.js';
import { createNativeOptimizer } from '../../../src/backend/native/optimizers.js';
import type { Tf } from '../../../src/core/tf.js';

let tf: Tf;
beforeAll(async () => {
  tf = (await startEngine('tensorflow')).tf;
});

const close = (a: number[], b: number[]) => a.forEach((x, i) => expect(x).toBeCloseTo(b[i]!, 5));

describe('native optimizers (TensorFlow fused kernels)', () => {
  it('Adam follows TensorFlow/Keras\'s update rule, with AdamW decay of kernels only', () => {
    const kernel = tf.variable(tf.tensor2d([[1, -2], [3, 0.5]]), true, 'native_adam_kernel');
    const bias = tf.variable(tf.tensor1d([0.5, -0.5]), true, 'native_adam_bias');
    const optimizer = createNativeOptimizer(tf, { kind: 'adam', learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0.5 });
    const g = [[0.1, -0.2], [0.3, 0.4]].flat();
    const gb = [1, -1];
    // By hand: m, v, lr_t = lr sqrt(1 - b2^t) / (1 - b1^t); decay first: w -= lr wd w (rank >= 2 only).
    let w = [1, -2, 3, 0.5];
    let wb = [0.5, -0.5];
    const m = [0, 0, 0, 0];
    const v = [0, 0, 0, 0];
    const mb = [0, 0];
    const vb = [0, 0];
    for (let t = 1; t <= 3; t++) {
      optimizer.applyGradients({ [kernel.name]: tf.tensor2d(g, [2, 2]), [bias.name]: tf.tensor1d(gb) });
      const lrT = (0.1 * Math.sqrt(1 - 0.999 ** t)) / (1 - 0.9 ** t);
      w = w.map((x) => x - 0.1 * 0.5 * x);
      w = w.map((x, i) => {
        m[i] = 0.9 * m[i]! + 0.1 * g[i]!;
        v[i] = 0.999 * v[i]! + 0.001 * g[i]! ** 2;
        return x - (lrT * m[i]!) / (Math.sqrt(v[i]!) + 1e-7);
      });
      wb = wb.map((x, i) => {
        mb[i] = 0.9 * mb[i]! + 0.1 * gb[i]!;
        vb[i] = 0.999 * vb[i]! + 0.001 * gb[i]! ** 2;
        return x - (lrT * mb[i]!) / (Math.sqrt(vb[i]!) + 1e-7);
      });
      close(Array.from(kernel.dataSync()), w);
      close(Array.from(bias.dataSync()), wb);
    }
    optimizer.dispose();
  });

  it('momentum SGD follows Keras\'s rule and picks up weights changed from outside', () => {
    const weight = tf.variable(tf.tensor1d([1, 2]), true, 'native_momentum_weight');
    const optimizer = createNativeOptimizer(tf, { kind: 'momentum', learningRate: 0.5, momentum: 0.9 });
    const grad = () => ({ [weight.name]: tf.tensor1d([1, -1]) });
    optimizer.applyGradients(grad()); // accum = -lr g; w += accum
    close(Array.from(weight.dataSync()), [0.5, 2.5]);
    weight.assign(tf.tensor1d([10, 10])); // e.g. a checkpoint load
    optimizer.applyGradients(grad()); // accum = 0.9 accum - lr g = [-0.95, 0.95]
    close(Array.from(weight.dataSync()), [9.05, 10.95]);
    optimizer.dispose();
  });

  it('saves and restores its state, and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const initial = tf.tensor1d([1, 2, 3]);
    const weight = tf.variable(initial, true, 'native_state_weight');
    const gradient = tf.tensor1d([0.1, 0.2, 0.3]);
    const first = createNativeOptimizer(tf, { kind: 'adam', learningRate: 0.01 });
    for (let i = 0; i < 3; i++) first.applyGradients({ [weight.name]: gradient });
    const state = await first.getWeights();
    const saved = tf.tensor1d(weight.dataSync());
    first.applyGradients({ [weight.name]: gradient });
    const expected = Array.from(weight.dataSync());
    // A second optimizer restored from the state continues exactly like the first.
    weight.assign(saved);
    const second = createNativeOptimizer(tf, { kind: 'adam', learningRate: 0.01 });
    await second.setWeights(state);
    second.applyGradients({ [weight.name]: gradient });
    expect(Array.from(weight.dataSync())).toEqual(expected);
    tf.dispose([...state.map((s) => s.tensor), initial, gradient, saved]);
    first.dispose();
    second.dispose();
    weight.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
