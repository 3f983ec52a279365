import type * as tfjs from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { startEngine } from '../../../src/backend/backend.js';
import { GraphStepRunner, graphStepsAvailable, stepScalar } from '../../../src/backend/native/graph-step.js';
import { createNativeOptimizer } from '../../../src/backend/native/optimizers.js';
import { batchNormLayerClass } from '../../../src/layers/fused-batch-norm.js';
import { randomLayers, setRandomStep } from '../../../src/layers/random-layers.js';
import type { Tf } from '../../../src/core/tf.js';

let tf: Tf;
beforeAll(async () => {
  tf = (await startEngine('tensorflow', { deterministic: true })).tf;
});

/** A small CNN with what the engine's kernels replace: fused convolution + bias + ReLU, batch norm, pooling, dense. */
function buildModel(seed: number, dropout = 0): tfjs.LayersModel {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed + k });
  const input = tf.input({ shape: [12, 12, 2] });
  let x = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1) }).apply(input) as tfjs.SymbolicTensor;
  // fer's batch norm: TensorFlow's fused kernel and its gradient on this backend.
  x = new (batchNormLayerClass(tf))({}).apply(x) as tfjs.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tfjs.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: init(2) }).apply(x) as tfjs.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tfjs.SymbolicTensor;
  // fer's seeded dropout: its mask changes from step to step, its seed a per-step input.
  if (dropout > 0) x = new (randomLayers(tf).Dropout)({ rate: dropout, seed: 5 }).apply(x) as tfjs.SymbolicTensor;
  const output = tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(3) }).apply(x) as tfjs.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

interface Trained {
  losses: number[];
  weights: number[][];
  verdict: string | undefined;
  fallback: string | undefined;
  tensorCounts: number[];
}

/** Trains `batchSizes.length` steps with fer's Adam, through a GraphStepRunner or op by op. */
function train(batchSizes: number[], options: { graph: boolean; dropout?: number; externalWriteAt?: number; noiseFromJs?: boolean }): Trained {
  const model = buildModel(7, options.dropout ?? 0);
  const optimizer = createNativeOptimizer(tf, { kind: 'adam', learningRate: 0.01 }) as unknown as tfjs.Optimizer & { prepare(v: readonly tfjs.Variable[]): void; learningRate: number };
  const variables = model.trainableWeights.map((w) => w.read() as tfjs.Variable);
  let fallback: string | undefined;
  const runner = options.graph ? new GraphStepRunner(tf, { prepare: () => optimizer.prepare(variables), onFallback: (reason) => (fallback = reason) }) : undefined;
  const losses: number[] = [];
  const tensorCounts: number[] = [];
  batchSizes.forEach((size, i) => {
    const x = tf.randomUniform([size, 12, 12, 2], 0, 1, 'float32', 100);
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({ length: size }, (_, k) => k % 3), 'int32'), 3));
    if (options.externalWriteAt === i) model.setWeights(model.getWeights().map((w) => tf.mul(w, 0.5)));
    // A schedule: the rate changes at every step, which a recorded step reads through stepScalar.
    optimizer.learningRate = 0.01 / (1 + i);
    setRandomStep(i);
    const step = () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const loss = tf.mean(tf.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tfjs.Tensor)) as tfjs.Scalar;
          // Noise drawn in JS with a seed that changes per step, as a layer of a plugin might: what a recording cannot see.
          return options.noiseFromJs ? (tf.mul(loss, tf.randomUniform([], 1, 1.01, 'float32', 1000 + i)) as tfjs.Scalar) : loss;
        }, variables);
        optimizer.applyGradients(grads);
        return [value];
      });
    const [value] = runner ? runner.run([x, y], step) : step();
    losses.push(value!.dataSync()[0]!);
    tf.dispose([value!, x, y]);
    tensorCounts.push(tf.memory().numTensors);
  });
  const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
  const result = { losses, weights, verdict: runner?.verdict, fallback, tensorCounts };
  runner?.dispose();
  optimizer.dispose();
  model.dispose();
  return result;
}

function expectClose(actual: number[], expected: number[], tolerance = 1e-4): void {
  const scale = Math.max(1e-6, ...expected.map(Math.abs));
  const worst = Math.max(...actual.map((a, i) => Math.abs(a - expected[i]!)));
  expect(worst / scale).toBeLessThan(tolerance);
}

describe('training steps recorded as TensorFlow functions (native backend)', () => {
  it('is available with fer\'s addon', () => {
    expect(graphStepsAvailable(tf)).toBe(true);
  });

  it('trains as the op-by-op step does (losses and weights within 1e-4), with memory flat', () => {
    const sizes = [8, 8, 8, 8, 8, 8];
    const eager = train(sizes, { graph: false });
    const graph = train(sizes, { graph: true });
    expect(graph.fallback).toBeUndefined();
    expect(graph.verdict).toBe('graph');
    expectClose(graph.losses, eager.losses);
    graph.weights.forEach((w, i) => expectClose(w, eager.weights[i]!));
    // Both recordings are done by step 2; from then on nothing accumulates.
    expect(graph.tensorCounts.slice(2), graph.tensorCounts.join(' ')).toEqual(graph.tensorCounts.slice(2).map(() => graph.tensorCounts[2]));
    expect(graph.losses[5]!).toBeLessThan(graph.losses[0]!);
  });

  it('records another batch shape (the last, partial batch) once the step is verified', () => {
    const sizes = [8, 8, 5, 8, 5, 8];
    const graph = train(sizes, { graph: true });
    const eager = train(sizes, { graph: false });
    expect(graph.verdict).toBe('graph');
    expectClose(graph.losses, eager.losses);
    graph.weights.forEach((w, i) => expectClose(w, eager.weights[i]!));
  });

  it('copies in weights written from outside between steps (a checkpoint load)', () => {
    const sizes = [8, 8, 8, 8, 8];
    const graph = train(sizes, { graph: true, externalWriteAt: 3 });
    const eager = train(sizes, { graph: false, externalWriteAt: 3 });
    expectClose(graph.losses, eager.losses);
    graph.weights.forEach((w, i) => expectClose(w, eager.weights[i]!));
  });

  it('records dropout, whose mask is drawn anew at every call from the step\'s seed', () => {
    const sizes = [8, 8, 8, 8, 8];
    const graph = train(sizes, { graph: true, dropout: 0.5 });
    const eager = train(sizes, { graph: false, dropout: 0.5 });
    expect(graph.verdict).toBe('graph');
    expectClose(graph.losses, eager.losses);
    graph.weights.forEach((w, i) => expectClose(w, eager.weights[i]!));
  });

  it('falls back to op by op, saying why, when the step changes from step to step outside its inputs', () => {
    const sizes = [8, 8, 8, 8];
    const graph = train(sizes, { graph: true, noiseFromJs: true });
    expect(graph.verdict).toBe('eager');
    expect(graph.fallback).toMatch(/differs between two consecutive steps \(recorded line \d+: `constant/);
    // The two recorded steps were right for their own step; the rest ran op by op.
    const eager = train(sizes, { graph: false, noiseFromJs: true });
    expectClose(graph.losses, eager.losses);
  });

  it('runs op by op from the start when an earlier part of the run fell back (a resumed run)', () => {
    const runner = new GraphStepRunner(tf, { verdict: 'eager' });
    let calls = 0;
    const [out] = runner.run([], () => {
      calls++;
      return [tf.scalar(1)];
    });
    expect(calls).toBe(1);
    expect(runner.verdict).toBe('eager');
    out!.dispose();
    runner.dispose();
  });

  it('passes per-step scalars in at every call', () => {
    const runner = new GraphStepRunner(tf);
    const counter = tf.variable(tf.scalar(0), false, 'graph_step_counter');
    let value = 1;
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      value = i * 10 + 1;
      const [out] = runner.run([], () => {
        counter.assign(tf.add(counter, stepScalar(tf, () => value)));
        return [tf.clone(counter)];
      });
      seen.push(out!.dataSync()[0]!);
      out!.dispose();
    }
    expect(runner.verdict).toBe('graph');
    expect(seen).toEqual([1, 12, 33, 64, 105]);
    runner.dispose();
    counter.dispose();
  });
});
