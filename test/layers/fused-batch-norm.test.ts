import type * as tfjs from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { startEngine } from '../../src/backend/backend.js';
import { batchNormLayerClass, fusedBatchNormStats } from '../../src/layers/fused-batch-norm.js';
import type { Tf } from '../../src/core/tf.js';
import { relativeError } from '../helpers/numeric.js';

let tf: Tf;
beforeAll(async () => {
  tf = (await startEngine('tensorflow')).tf;
});

/** Output, gradients (input, gamma, beta) and moving statistics after two training steps of a layer. */
function trainStep(layer: tfjs.layers.Layer, x: tfjs.Tensor4D, r: tfjs.Tensor4D) {
  layer.build(x.shape);
  tf.tidy(() => (layer.trainableWeights[0]!.read() as tfjs.Variable).assign(tf.randomNormal([x.shape[3]], 1, 0.2, 'float32', 3)));
  const variables = layer.trainableWeights.map((w) => w.read() as tfjs.Variable);
  const objective = (input: tfjs.Tensor) => tf.sum(tf.mul(layer.apply(input, { training: true }) as tfjs.Tensor, r)) as tfjs.Scalar;
  const { grads } = tf.variableGrads(() => objective(x), variables);
  const [dx] = tf.grads((input) => objective(input))([x]);
  const y = layer.apply(x, { training: true }) as tfjs.Tensor;
  const weights = layer.getWeights();
  return {
    y: y.dataSync(),
    dx: dx!.dataSync(),
    dGamma: grads[variables[0]!.name]!.dataSync(),
    dBeta: grads[variables[1]!.name]!.dataSync(),
    movingMean: weights[2]!.dataSync(),
    movingVariance: weights[3]!.dataSync(),
  };
}

describe('fused batch norm on the native backend', () => {
  it.each([
    { shape: [32, 24, 24, 64] as [number, number, number, number], momentum: 0.99 },
    { shape: [8, 7, 5, 3] as [number, number, number, number], momentum: 0.9 },
  ])('matches the portable path for $shape (relative error < 1e-4)', ({ shape, momentum }) => {
    const x = tf.randomNormal(shape, 0.5, 2, 'float32', 1) as tfjs.Tensor4D;
    const r = tf.randomNormal(shape, 0, 1, 'float32', 2) as tfjs.Tensor4D;
    const before = fusedBatchNormStats.steps;
    const fused = trainStep(new (batchNormLayerClass(tf))({ momentum, epsilon: 1e-3 }), x, r);
    expect(fusedBatchNormStats.steps).toBeGreaterThan(before);
    const portable = trainStep(tf.layers.batchNormalization({ momentum, epsilon: 1e-3 }), x, r);
    for (const key of ['y', 'dx', 'dGamma', 'dBeta', 'movingMean', 'movingVariance'] as const) {
      expect(relativeError(fused[key], portable[key]), key).toBeLessThan(1e-4);
    }
  });

  it('keeps the moving statistics of the portable path with one value per channel (no Bessel correction to undo)', () => {
    const x = tf.randomNormal([1, 1, 1, 3], 0.5, 2, 'float32', 1) as tfjs.Tensor4D;
    const r = tf.randomNormal([1, 1, 1, 3], 0, 1, 'float32', 2) as tfjs.Tensor4D;
    const fused = trainStep(new (batchNormLayerClass(tf))({ momentum: 0.9, epsilon: 1e-3 }), x, r);
    const portable = trainStep(tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-3 }), x, r);
    for (const key of ['y', 'movingMean', 'movingVariance'] as const) {
      expect(relativeError(fused[key], portable[key]), key).toBeLessThan(1e-4);
    }
    // The output does not depend on x or gamma here: both gradients are zero up to rounding.
    for (const key of ['dx', 'dGamma'] as const) {
      expect(Math.max(...Array.from(fused[key], Math.abs)), key).toBeLessThan(1e-5);
    }
  });

  it('leaves no tensor behind after a training step', () => {
    const layer = new (batchNormLayerClass(tf))({});
    const x = tf.randomNormal([4, 5, 5, 3], 0, 1, 'float32', 9);
    tf.tidy(() => {
      layer.apply(x, { training: true });
    });
    const tensors = tf.memory().numTensors;
    tf.tidy(() => {
      layer.apply(x, { training: true });
    });
    expect(tf.memory().numTensors).toBe(tensors);
    x.dispose();
  });

  it('takes the portable path for inference and for other ranks', () => {
    const before = fusedBatchNormStats.steps;
    new (batchNormLayerClass(tf))({}).apply(tf.randomNormal([4, 6, 6, 3]), { training: false });
    new (batchNormLayerClass(tf))({}).apply(tf.randomNormal([4, 3]), { training: true });
    expect(fusedBatchNormStats.steps).toBe(before);
  });

  it('serialises and reloads with fer\'s batch norm and dropout classes', async () => {
    const { randomLayers } = await import('../../src/layers/random-layers.js');
    const input = tf.input({ shape: [6, 6, 2] });
    const normed = new (batchNormLayerClass(tf))({ momentum: 0.8, name: 'bn' }).apply(input);
    const dropped = new (randomLayers(tf).Dropout)({ rate: 0.25, seed: 7, name: 'drop' }).apply(normed);
    const model = tf.model({ inputs: input, outputs: dropped as tfjs.SymbolicTensor });
    const json = model.toJSON(null, false) as unknown as Record<string, unknown>;
    const copy = await tf.models.modelFromJSON(json as never);
    expect(copy.getLayer('bn').getClassName()).toBe('FerBatchNormalization');
    expect(copy.getLayer('bn').getConfig().momentum).toBe(0.8);
    expect(copy.getLayer('drop').getClassName()).toBe('FerDropout');
    expect(copy.getLayer('drop').getConfig()).toMatchObject({ rate: 0.25, seed: 7 });
  });
});
