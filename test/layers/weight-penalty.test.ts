import type * as tfjs from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { startEngine } from '../../src/backend/backend.js';
import { weightPenalty } from '../../src/layers/weight-penalty.js';
import type { Tf } from '../../src/core/tf.js';
import { relativeError } from '../helpers/numeric.js';

let tf: Tf;
beforeAll(async () => {
  tf = (await startEngine('tensorflow')).tf;
});

describe('weight penalties with a direct gradient', () => {
  it.each([
    { l1: 0, l2: 1e-4 },
    { l1: 3e-3, l2: 0 },
    { l1: 2e-3, l2: 5e-2 },
  ])('l1 $l1, l2 $l2: value and gradient equal tfjs\'s L1L2 (relative error < 1e-5)', ({ l1, l2 }) => {
    const w = tf.randomNormal([3, 3, 8, 16], 0, 0.5, 'float32', 11);
    const measure = (regularizer: { apply(x: tfjs.Tensor): tfjs.Scalar }) =>
      tf.tidy(() => {
        const { value, grad } = tf.valueAndGrad((x: tfjs.Tensor) => tf.mul(regularizer.apply(x), 3) as tfjs.Scalar)(w);
        return { value: value.dataSync()[0]!, grad: grad.dataSync() };
      });
    const fast = measure(weightPenalty(tf, l1, l2));
    const reference = measure(tf.regularizers.l1l2({ l1, l2 }));
    expect(Math.abs(fast.value - reference.value) / reference.value).toBeLessThan(1e-5);
    expect(relativeError(fast.grad, reference.grad)).toBeLessThan(1e-5);
    w.dispose();
  });

  it('serialises as tfjs\'s L1L2, so saved models load without fer', () => {
    const penalty = weightPenalty(tf, 1e-3, 1e-4);
    expect(penalty.getClassName()).toBe('L1L2');
    expect(tf.serialization.SerializationMap.getMap().classNameMap.L1L2).toBeDefined();
    expect(penalty.getConfig()).toEqual(tf.regularizers.l1l2({ l1: 1e-3, l2: 1e-4 }).getConfig());
  });
});
