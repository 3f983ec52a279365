import { recordingGraph } from './graph-step.js';
import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../../core/tf.js';
import { ONEDNN_FUSED_CONVOLUTION } from '../kernel-choice.js';
import { capabilities } from '../capabilities.js';
import { floatTypeAttr, type NativeBackend, type NativeBinding } from './native-backend.js';
import { nativeActivationGradient, nativeBiasGradient } from './gradients.js';

/**
 * Convolutions whose gradient is computed input by input on the native backend.
 * tfjs-layers runs every convolution through `tf.fused.conv2d`, whose gradient, for a linear
 * activation (every convolution followed by batch norm), is one custom gradient that computes the
 * input, filter and bias gradients together, whether the tape needs them or not. The network's first
 * convolution has the image as input, whose gradient nobody uses: ResNet-18's stem spends 11 ms a step
 * (3%) on it, the batch-norm VGG 3 ms. fer routes these convolutions through a kernel of its own
 * (FerConv2D: TensorFlow's fused convolution + bias + activation where fer's addon is built, else
 * tfjs-node's convolution, bias and activation one after another) with a registered gradient, whose parts
 * tfjs's tape calls only for inputs that lead to a trained weight, as it does for plain conv2d.
 * Covered: channels-last 4D inputs, linear or relu activation, no dilation; anything else, and
 * every other backend, takes tfjs's own path. Equality of outputs and gradients is tested.
 */
type FusedConv2dArgs = Parameters<Tf['fused']['conv2d']>[0];

interface FerConv2DAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same';
  activation: 'linear' | 'relu';
}

const KERNEL = 'FerConv2D';

/** Counts convolutions that took fer's kernel: tests check the path is really taken. */
export const ferConv2dStats = { calls: 0 };

const registered = new WeakSet<object>();

/** Counts convolutions run as TensorFlow's fused kernel: tests check the path is really taken. */
export const tensorflowFusedConv2dStats = { calls: 0 };

/** Counts convolutions run as oneDNN's fused kernel (a subset of the above). */
export const oneDnnFusedConv2dStats = { calls: 0 };

/**
 * Whether the fused convolution may run as oneDNN's kernel rather than TensorFlow's (Eigen) one: chosen
 * by the CPU or forced by FER_KERNELS (see kernel-choice.ts). On an Intel Xeon with AVX-512 oneDNN's was
 * 1.0-1.4x faster on every forward layer of the reference CNN (its nine in a training step: 60-77
 * against 86-105 ms at batch 32); on the AVX2 machine TensorFlow's fused kernel was measured, and
 * stays. oneDNN's kernel runs on AVX2 CPUs too (tested there with FER_KERNELS=onednn).
 */
export { ONEDNN_FUSED_CONVOLUTION };

/**
 * The attributes of TensorFlow's _FusedConv2D; oneDNN's kernel is registered under an internal name,
 * selected by a kernel label, with a few attributes of its own.
 */
function fusedAttrs(b: NativeBinding, attrs: FerConv2DAttrs, oneDnn: boolean): unknown[] {
  const [strideHeight, strideWidth] = typeof attrs.strides === 'number' ? [attrs.strides, attrs.strides] : attrs.strides;
  const common = [
    floatTypeAttr(b),
    { name: 'TArgs', type: b.TF_ATTR_TYPE, value: [b.TF_FLOAT] },
    { name: 'num_args', type: b.TF_ATTR_INT, value: 1 },
    { name: 'strides', type: b.TF_ATTR_INT, value: [1, strideHeight, strideWidth, 1] },
    { name: 'padding', type: b.TF_ATTR_STRING, value: attrs.pad === 'same' ? 'SAME' : 'VALID' },
    { name: 'fused_ops', type: b.TF_ATTR_STRING, value: attrs.activation === 'relu' ? ['BiasAdd', 'Relu'] : ['BiasAdd'] },
  ];
  if (!oneDnn) return common;
  return [
    ...common,
    { name: 'data_format', type: b.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'dilations', type: b.TF_ATTR_INT, value: [1, 1, 1, 1] },
    { name: 'explicit_paddings', type: b.TF_ATTR_INT, value: [] },
    { name: 'is_filter_const', type: b.TF_ATTR_BOOL, value: false },
    { name: '_kernel', type: b.TF_ATTR_STRING, value: 'MklNameChangeOp' },
  ];
}

/**
 * Whether oneDNN's fused convolution runs here (absent from builds without oneDNN, unused with
 * TF_ENABLE_ONEDNN_OPTS=0) and agrees with TensorFlow's on a small case with both paddings.
 */
function probeOneDnnFusedConvolution(tf: Tf, backend: NativeBackend): boolean {
  if (!capabilities(tf).oneDnn) return false;
  try {
    return tf.tidy(() => {
      const x = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 1) as tfjs.Tensor4D;
      const filter = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 2) as tfjs.Tensor4D;
      const bias = tf.randomNormal([4], 0, 1, 'float32', 3) as tfjs.Tensor1D;
      return (['same', 'valid'] as const).every((pad) => {
        const attrs: FerConv2DAttrs = { strides: 1, pad, activation: 'relu' };
        const oneDnn = backend.executeSingleOutput('_MklNativeFusedConv2D', fusedAttrs(backend.binding, attrs, true), [x, filter, bias]);
        const eigen = backend.executeSingleOutput('_FusedConv2D', fusedAttrs(backend.binding, attrs, false), [x, filter, bias]);
        const expected = eigen.dataSync() as Float32Array;
        const actual = oneDnn.dataSync();
        const scale = Math.max(...expected.map(Math.abs), 1e-6);
        return actual.length === expected.length && expected.every((v, i) => Math.abs(v - actual[i]!) <= 1e-5 * scale);
      });
    });
  } catch {
    return false;
  }
}

let oneDnnFusedConvolution: boolean | undefined;

/**
 * Convolution + bias (+ relu) as one fused kernel, one pass over the output (what a TensorFlow graph
 * runs for such a layer) instead of three: oneDNN's or TensorFlow's (above). Both need fer's addon,
 * which can pass the op's list-valued attributes.
 */
function fusedConvolution(tf: Tf, backend: NativeBackend, x: tfjs.Tensor4D, filter: tfjs.Tensor4D, bias: tfjs.Tensor1D, attrs: FerConv2DAttrs): tfjs.Tensor {
  // Probed only where it would be used.
  const oneDnn = ONEDNN_FUSED_CONVOLUTION.enabled && !recordingGraph() && (oneDnnFusedConvolution ??= probeOneDnnFusedConvolution(tf, backend));
  tensorflowFusedConv2dStats.calls++;
  if (oneDnn) oneDnnFusedConv2dStats.calls++;
  return backend.executeSingleOutput(oneDnn ? '_MklNativeFusedConv2D' : '_FusedConv2D', fusedAttrs(backend.binding, attrs, oneDnn), [x, filter, bias]);
}

export function registerNativeConvolution(tf: Tf): void {
  if (registered.has(tf) || process.env.FER_TFJS_GRADIENTS === '1') return;
  const fusedKernel = tf.getKernel('FusedConv2D', 'tensorflow');
  if (!fusedKernel) return;
  registered.add(tf);
  const engine = tf.engine();

  tf.registerKernel({
    kernelName: KERNEL,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const a = attrs as unknown as FerConv2DAttrs;
      const native = backend as unknown as NativeBackend;
      const { x, filter, bias } = inputs as { x: tfjs.Tensor4D; filter: tfjs.Tensor4D; bias?: tfjs.Tensor1D };
      if (bias && capabilities(tf).fusedConvolution) return fusedConvolution(tf, native, x, filter, bias, a);
      return fusedKernel.kernelFunc({
        inputs,
        backend,
        attrs: { strides: a.strides, pad: a.pad, dataFormat: 'NHWC', dilations: 1, activation: a.activation },
      });
    },
  });

  tf.registerGradient({
    kernelName: KERNEL,
    inputsToSave: ['x', 'filter'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter, y] = saved as [tfjs.Tensor4D, tfjs.Tensor4D, tfjs.Tensor4D];
      const a = attrs as unknown as FerConv2DAttrs;
      const backend = tf.backend() as unknown as NativeBackend;
      // The relu's gradient from its output: y > 0 exactly where the pre-activation was.
      const preActivation = a.activation === 'relu' ? nativeActivationGradient(backend, 'ReluGrad', dy as tfjs.Tensor, y) : (dy as tfjs.Tensor);
      // Rounding modes only apply to numeric padding, which this kernel does not take.
      const common = { strides: a.strides, pad: a.pad, dataFormat: 'NHWC' };
      return {
        x: () => engine.runKernel('Conv2DBackpropInput', { dy: preActivation, filter }, { ...common, inputShape: x.shape }) as tfjs.Tensor,
        filter: () => engine.runKernel('Conv2DBackpropFilter', { x, dy: preActivation }, { ...common, filterShape: filter.shape }) as tfjs.Tensor,
        bias: () => nativeBiasGradient(backend, preActivation),
      };
    },
  });

  // tfjs-layers calls tf.fused.conv2d through the shared namespace object, so replacing it there
  // reaches every convolution layer. (The generic signature is restated loosely: T is the input's rank.)
  const fused = tf.fused as unknown as { conv2d: (args: FusedConv2dArgs) => tfjs.Tensor };
  const original = fused.conv2d;
  fused.conv2d = (args: FusedConv2dArgs) => {
    const activation = args.activation ?? 'linear';
    const covered =
      capabilities(tf).nativeGradients &&
      args.x instanceof tf.Tensor &&
      args.filter instanceof tf.Tensor &&
      (args.bias === undefined || args.bias === null || (args.bias instanceof tf.Tensor && args.bias.rank === 1 && args.bias.shape[0] === args.filter.shape[3])) &&
      args.x.rank === 4 &&
      args.x.dtype === 'float32' &&
      (args.dataFormat ?? 'NHWC') === 'NHWC' &&
      (args.dilations === undefined || args.dilations === 1 || (Array.isArray(args.dilations) && args.dilations.every((d) => d === 1))) &&
      (activation === 'linear' || activation === 'relu') &&
      (args.pad === 'same' || args.pad === 'valid') &&
      !args.preluActivationWeights;
    if (!covered) return original(args);
    ferConv2dStats.calls++;
    const inputs: Record<string, tfjs.Tensor> = { x: args.x as tfjs.Tensor, filter: args.filter as tfjs.Tensor };
    if (args.bias) inputs.bias = args.bias as tfjs.Tensor;
    const attrs: FerConv2DAttrs = { strides: args.strides, pad: args.pad as 'same' | 'valid', activation };
    return engine.runKernel(KERNEL, inputs, attrs as unknown as tfjs.NamedAttrMap) as tfjs.Tensor;
  };
}
