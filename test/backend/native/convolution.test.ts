import type * as tfjs from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startEngine } from '../../../src/backend/backend.js';
import { hasFerAddon, type NativeBackend } from '../../../src/backend/native/native-backend.js';
import { ferConv2dStats, ONEDNN_FUSED_CONVOLUTION, oneDnnFusedConv2dStats, tensorflowFusedConv2dStats } from '../../../src/backend/native/convolution.js';
import type { Tf } from '../../../src/core/tf.js';
import { relativeError } from '../../helpers/numeric.js';

let tf: Tf;
beforeAll(async () => {
  tf = (await startEngine('tensorflow')).tf;
});

/** A stem like ResNet's (linear, bias), a relu convolution, one without bias, strided and not. */
function model(): tfjs.LayersModel {
  const input = tf.input({ shape: [9, 9, 2] });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), biasInitializer: tf.initializers.randomNormal({ seed: 2 }) }).apply(input) as tfjs.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 5, kernelSize: 2, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }), biasInitializer: tf.initializers.randomNormal({ seed: 4 }) }).apply(x) as tfjs.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 3, kernelSize: 1, useBias: false, kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }).apply(x) as tfjs.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tfjs.SymbolicTensor;
  return tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }) }).apply(x) as tfjs.SymbolicTensor });
}

/** Output, the gradient of every weight, and the gradient of the input (asked for explicitly). */
function run(xValues: Float32Array) {
  return tf.tidy(() => {
    const m = model();
    const x = tf.tensor4d(xValues, [3, 9, 9, 2]);
    const objective = (input: tfjs.Tensor) => tf.sum(tf.square(m.apply(input, { training: true }) as tfjs.Tensor)) as tfjs.Scalar;
    const variables = m.trainableWeights.map((w) => w.read() as tfjs.Variable);
    const { value, grads } = tf.variableGrads(() => objective(x), variables);
    const [dx] = tf.grads((input) => objective(input))([x]);
    const result = { loss: value.dataSync()[0]!, dx: dx!.dataSync(), weights: variables.map((v) => grads[v.name]!.dataSync()) };
    m.dispose();
    return result;
  });
}

describe("fer's convolution kernel on the native backend", () => {
  it.each([
    { kernel: "TensorFlow's", oneDnn: false },
    { kernel: "oneDNN's", oneDnn: true },
  ])("gives the outputs and gradients of the cpu backend (relative error < 1e-4), with $kernel fused kernel", async ({ oneDnn }) => {
    const enabled = ONEDNN_FUSED_CONVOLUTION.enabled;
    ONEDNN_FUSED_CONVOLUTION.enabled = oneDnn;
    onTestFinished(() => {
      ONEDNN_FUSED_CONVOLUTION.enabled = enabled;
    });
    const xValues = tf.randomNormal([3, 9, 9, 2], 0, 1, 'float32', 7).dataSync() as Float32Array;
    // fer's addon (what `fer setup native` builds) runs convolutions with a bias as TensorFlow's fused kernel.
    expect(hasFerAddon(tf.backend() as unknown as NativeBackend), 'run `npx fer setup native`').toBe(true);
    const before = ferConv2dStats.calls;
    const fusedBefore = tensorflowFusedConv2dStats.calls;
    const oneDnnBefore = oneDnnFusedConv2dStats.calls;
    const native = run(xValues);
    expect(ferConv2dStats.calls).toBeGreaterThan(before);
    // The model's two convolutions with a bias, in both gradient computations; TensorFlow's wheel has
    // oneDNN's kernel, so its probe passes.
    expect(tensorflowFusedConv2dStats.calls - fusedBefore).toBe(4);
    expect(oneDnnFusedConv2dStats.calls - oneDnnBefore).toBe(oneDnn ? 4 : 0);
    await tf.setBackend('cpu');
    let portable: ReturnType<typeof run>;
    try {
      portable = run(xValues);
    } finally {
      await tf.setBackend('tensorflow');
    }
    expect(Math.abs(native.loss - portable.loss) / Math.abs(portable.loss)).toBeLessThan(1e-4);
    expect(relativeError(native.dx, portable.dx)).toBeLessThan(1e-4);
    expect(native.weights).toHaveLength(7);
    native.weights.forEach((g, i) => expect(relativeError(g, portable.weights[i]!), `weight ${i}`).toBeLessThan(1e-4));
  });

  it("computes no gradient for the image: the first layer's input gradient is never asked for", async () => {
    const m = model();
    const x = tf.randomNormal([3, 9, 9, 2], 0, 1, 'float32', 8);
    const variables = m.trainableWeights.map((w) => w.read() as tfjs.Variable);
    const info = await tf.profile(() => {
      tf.tidy(() => tf.variableGrads(() => tf.sum(tf.square(m.apply(x, { training: true }) as tfjs.Tensor)) as tfjs.Scalar, variables).value.dataSync());
    });
    const inputGradients = info.kernels.filter((k) => k.name === 'Conv2DBackpropInput');
    // The two later convolutions need their input gradients; the first one's would be the image's.
    expect(inputGradients).toHaveLength(2);
    expect(inputGradients.some((k) => JSON.stringify(k.outputShapes[0]) === JSON.stringify([3, 9, 9, 2]))).toBe(false);
    tf.dispose(x);
    m.dispose();
  });
});
