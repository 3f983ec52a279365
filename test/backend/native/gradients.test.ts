import type * as tfjs from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { startEngine } from '../../../src/backend/backend.js';
import type { Tf } from '../../../src/core/tf.js';

let tf: Tf;
beforeAll(async () => {
  tf = (await startEngine('tensorflow')).tf;
});

describe('native activation gradients', () => {
  it.each(['relu', 'relu6'] as const)('%s: TensorFlow\'s gradient kernel equals tfjs\'s gradient', async (op) => {
    const x = tf.mul(tf.randomNormal([4, 9, 9, 5], 0, 4, 'float32', 1), 1) as tfjs.Tensor4D;
    const r = tf.randomNormal([4, 9, 9, 5], 0, 1, 'float32', 2);
    const f = (input: tfjs.Tensor) => tf.sum(tf.mul(op === 'relu' ? tf.relu(input) : tf.relu6(input), r));
    const native = tf.grad(f)(x).dataSync();
    // The same gradient on the cpu backend, where tfjs's own (dy * step) runs.
    await tf.setBackend('cpu');
    const portable = tf.grad(f)(tf.tensor(x.dataSync(), x.shape)).dataSync();
    await tf.setBackend('tensorflow');
    expect(Array.from(native)).toEqual(Array.from(portable));
  });
});
