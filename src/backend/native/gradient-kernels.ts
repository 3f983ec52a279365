import { recordingGraph } from './graph-step.js';
import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../../core/tf.js';
import { chooseKernels, EIGEN_FILTER_GRADIENT } from '../kernel-choice.js';
import { capabilities } from '../capabilities.js';
import { floatTypeAttr, type NativeBackend, type NativeBinding } from './native-backend.js';

/**
 * Faster gradient kernels on the native backend, each replacing tfjs-node's kernel of the same name
 * where measurements showed TensorFlow's eager kernel to be slow, and falling back to it elsewhere.
 * Equality with the portable gradients is tested; `FER_TFJS_GRADIENTS=1` turns them off.
 *
 * Conv2DBackpropFilter: TensorFlow's kernel is slow when the output map is tiny and the channels
 * wide: ResNet-18's last stage (2x2 maps, 512 -> 512 channels, 3x3) takes ~31-42 ms a layer here,
 * 15-20 GFLOP/s, a quarter of a ResNet-18 training step for its three such layers. There the
 * gradient is cheaper as im2col: ExtractImagePatches lays out the input windows as the rows of a
 * matrix (tiny, since the map is), and one MatMul with the output gradient gives the filter
 * gradient: 3.6x faster for that layer, 2.8x for the 1x1 stride-2 projection before it, 1.0-1.25x
 * on 3x3 maps. On larger maps the patch matrix grows with kh*kw and the native kernel wins, so
 * only outputs of at most SMALL_OUTPUT_AREA positions take this path (measured crossover).
 *
 * At the other end, large maps with many channels (the reference CNN's 3x3 layers on 40x40 maps,
 * 2-7 GFLOP per gradient at batch 32): TensorFlow's eager runtime swaps Conv2DBackpropFilter for
 * oneDNN's backward-weights kernel when oneDNN is on, and which of the two is faster depends on the
 * CPU. On an AMD EPYC with AVX2 only, oneDNN's ran at 50-55 GFLOP/s and TensorFlow's own (Eigen) at
 * 75-90 (40x40x64 -> 128: 126 against 73 ms); on an Intel Xeon with AVX-512, oneDNN's is 2.3-3.7x the
 * faster (the same layer 30-48 against 76-82 ms; the reference CNN's nine: 81-125 against 220-233
 * ms). So on CPUs without AVX-512, gradients of at least EIGEN_FILTER_GRADIENT.minFlops are asked for
 * with their SAME/VALID padding written out as explicit padding, which the runtime leaves to
 * TensorFlow's kernel (the same arithmetic); below ~1 GFLOP oneDNN won or tied there too.
 * The choice is made from the CPU's flags; `FER_KERNELS=eigen|onednn` forces it (with the fused
 * convolution's), `FER_FILTER_GRADIENTS=eigen|onednn` alone (see kernel-choice.ts).
 *
 * MaxPoolGrad: the eager kernel is plain Eigen code that searches every window again; oneDNN's
 * max-pooling backward (what a TensorFlow graph runs when oneDNN is on) reads the argmax from a
 * workspace its forward pass writes. Recomputing that forward pass and running the backward is
 * still 1.2-1.9x faster (32x48x48x16 2x2: 8.3 -> 6.8 ms; 32x24x24x64 3x3/2: 12.5 -> 6.6 ms). The
 * oneDNN kernels are registered under internal op names with a kernel label, so their presence is
 * probed once (and the result checked against the eager kernel) before they are used.
 */
/** Output maps up to this many positions (3x3) take the im2col path. */
export const SMALL_OUTPUT_AREA = 9;

/** Counts filter gradients computed by the im2col path: tests check it is really taken. */
export const im2colFilterGradientStats = { calls: 0 };

/**
 * Filter gradients of at least `minFlops` floating-point operations run TensorFlow's own kernel where
 * `enabled`: chosen by the CPU or forced by FER_KERNELS / FER_FILTER_GRADIENTS (see kernel-choice.ts).
 */
export { EIGEN_FILTER_GRADIENT };

/**
 * Whether large filter gradients should run TensorFlow's own kernel rather than oneDNN's: on x86 CPUs
 * with AVX2 but without AVX-512 (see above), unless `override` (FER_FILTER_GRADIENTS) names one of the two.
 */
export function eigenFilterGradientsPreferred(flags: readonly string[], override: string | undefined): boolean {
  return chooseKernels(flags, { FER_FILTER_GRADIENTS: override }).largeFilterGradients === 'eigen';
}

/** Counts filter gradients sent to TensorFlow's own kernel by explicit padding. */
export const eigenFilterGradientStats = { calls: 0 };

interface FilterGradientAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tfjs.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** Counts max-pooling gradients computed by oneDNN's kernels. */
export const oneDnnMaxPoolGradientStats = { calls: 0 };

interface MaxPoolGradientAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const registered = new WeakSet<object>();

export function registerNativeGradientKernels(tf: Tf): void {
  if (registered.has(tf) || process.env.FER_TFJS_GRADIENTS === '1') return;
  registered.add(tf);
  replaceKernel(tf, 'Conv2DBackpropFilter', (args, backend) => {
    const { x, dy } = args.inputs as { x: tfjs.Tensor4D; dy: tfjs.Tensor4D };
    const attrs = args.attrs as unknown as FilterGradientAttrs;
    if (attrs.dataFormat !== 'NHWC' || x.dtype !== 'float32' || dy.dtype !== 'float32') return undefined;
    const info = tf.backend_util.computeConv2DInfo(x.shape, attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
    if (info.padInfo.type !== 'SAME' && info.padInfo.type !== 'VALID') return undefined;
    return im2colFilterGradient(tf, backend, x, dy, attrs.filterShape, info) ?? eigenFilterGradient(tf, backend, x, dy, attrs.filterShape, info);
  });
  let oneDnnPooling: boolean | undefined;
  replaceKernel(tf, 'MaxPoolGrad', (args, backend) => {
    const { dy, input } = args.inputs as { dy: tfjs.Tensor4D; input: tfjs.Tensor4D };
    if (recordingGraph()) return undefined;
    oneDnnPooling ??= probeOneDnnMaxPool(tf, backend);
    return oneDnnPooling ? oneDnnMaxPoolGradient(tf, backend, input, dy, args.attrs as unknown as MaxPoolGradientAttrs) : undefined;
  });
}

type KernelArgs = Parameters<tfjs.KernelFunc>[0];

/** Registers `faster` for the native backend's kernel `name`; where it returns undefined, tfjs-node's kernel runs. */
function replaceKernel(tf: Tf, name: string, faster: (args: KernelArgs, backend: NativeBackend) => tfjs.Tensor | undefined): void {
  const original = tf.getKernel(name, 'tensorflow');
  if (!original) return;
  tf.unregisterKernel(name, 'tensorflow');
  tf.registerKernel({
    kernelName: name,
    backendName: 'tensorflow',
    kernelFunc: (args) => faster(args, args.backend as unknown as NativeBackend) ?? original.kernelFunc(args),
  });
}

type ConvolutionInfo = ReturnType<Tf['backend_util']['computeConv2DInfo']>;

/** The filter gradient by im2col (SAME/VALID padding, NHWC float32), or undefined where the output is too large for it. */
function im2colFilterGradient(tf: Tf, backend: NativeBackend, x: tfjs.Tensor4D, dy: tfjs.Tensor4D, filterShape: FilterGradientAttrs['filterShape'], info: ConvolutionInfo): tfjs.Tensor | undefined {
  if (info.outHeight * info.outWidth > SMALL_OUTPUT_AREA) return undefined;
  const padding = info.padInfo.type;
  const [kh, kw, inChannels, outChannels] = filterShape;
  const b = backend.binding;
  const floatType = floatTypeAttr(b);
  const unitWindow = kh === 1 && kw === 1 && info.strideHeight === 1 && info.strideWidth === 1;
  // [N, Ho, Wo, kh*kw*Cin], each row a window in (kh, kw, Cin) order: the filter's own layout.
  const patches = unitWindow
    ? x
    : backend.executeSingleOutput(
        'ExtractImagePatches',
        [
          floatType,
          { name: 'ksizes', type: b.TF_ATTR_INT, value: [1, kh, kw, 1] },
          { name: 'strides', type: b.TF_ATTR_INT, value: [1, info.strideHeight, info.strideWidth, 1] },
          { name: 'rates', type: b.TF_ATTR_INT, value: [1, 1, 1, 1] },
          { name: 'padding', type: b.TF_ATTR_STRING, value: padding },
        ],
        [x],
      );
  const rows = dy.shape[0] * dy.shape[1] * dy.shape[2];
  const patchMatrix = tf.reshape(patches, [rows, kh * kw * inChannels]);
  const gradientMatrix = tf.reshape(dy, [rows, outChannels]);
  // patches^T @ dy: [kh*kw*Cin, Cout].
  const product = backend.executeSingleOutput(
    'MatMul',
    [floatType, { name: 'transpose_a', type: b.TF_ATTR_BOOL, value: true }, { name: 'transpose_b', type: b.TF_ATTR_BOOL, value: false }],
    [patchMatrix, gradientMatrix],
  );
  const filterGradient = tf.reshape(product, filterShape);
  tf.dispose([patchMatrix, gradientMatrix, product]);
  if (patches !== x) patches.dispose();
  im2colFilterGradientStats.calls++;
  return filterGradient;
}

/** The filter gradient by TensorFlow's own kernel for large layers, or undefined to leave it to tfjs-node's call. */
function eigenFilterGradient(tf: Tf, backend: NativeBackend, x: tfjs.Tensor4D, dy: tfjs.Tensor4D, filterShape: FilterGradientAttrs['filterShape'], info: ConvolutionInfo): tfjs.Tensor | undefined {
  const pad = info.padInfo;
  const [kh, kw, inChannels, outChannels] = filterShape;
  const flops = 2 * dy.shape[0] * info.outHeight * info.outWidth * kh * kw * inChannels * outChannels;
  if (!EIGEN_FILTER_GRADIENT.enabled || flops < EIGEN_FILTER_GRADIENT.minFlops) return undefined;
  const b = backend.binding;
  const filterSizes = tf.tensor1d(filterShape, 'int32');
  const gradient = backend.executeSingleOutput(
    'Conv2DBackpropFilter',
    [
      floatTypeAttr(b),
      { name: 'strides', type: b.TF_ATTR_INT, value: [1, info.strideHeight, info.strideWidth, 1] },
      { name: 'use_cudnn_on_gpu', type: b.TF_ATTR_BOOL, value: true },
      { name: 'padding', type: b.TF_ATTR_STRING, value: 'EXPLICIT' },
      { name: 'explicit_paddings', type: b.TF_ATTR_INT, value: [0, 0, pad.top, pad.bottom, pad.left, pad.right, 0, 0] },
      { name: 'data_format', type: b.TF_ATTR_STRING, value: 'NHWC' },
      { name: 'dilations', type: b.TF_ATTR_INT, value: [1, 1, 1, 1] },
    ],
    [x, filterSizes, dy],
  );
  filterSizes.dispose();
  eigenFilterGradientStats.calls++;
  return gradient;
}

/** oneDNN's pooling kernels are registered under these internal names, selected by a kernel label. */
function oneDnnPoolAttrs(b: NativeBinding, ksize: number[], strides: number[], padding: string): unknown[] {
  return [
    floatTypeAttr(b),
    { name: 'ksize', type: b.TF_ATTR_INT, value: ksize },
    { name: 'strides', type: b.TF_ATTR_INT, value: strides },
    { name: 'padding', type: b.TF_ATTR_STRING, value: padding },
    { name: 'data_format', type: b.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'workspace_enabled', type: b.TF_ATTR_BOOL, value: true },
    { name: '_kernel', type: b.TF_ATTR_STRING, value: 'MklNameChangeOp' },
  ];
}

/** The max-pooling gradient by oneDNN: its forward pass again for the argmax workspace, then its backward. */
function oneDnnMaxPoolGradient(tf: Tf, backend: NativeBackend, input: tfjs.Tensor4D, dy: tfjs.Tensor4D, attrs: MaxPoolGradientAttrs): tfjs.Tensor | undefined {
  if (input.dtype !== 'float32' || dy.dtype !== 'float32') return undefined;
  const info = tf.backend_util.computePool2DInfo(input.shape, attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const padding = info.padInfo.type;
  if (padding !== 'SAME' && padding !== 'VALID') return undefined;
  const poolAttrs = oneDnnPoolAttrs(backend.binding, [1, info.filterHeight, info.filterWidth, 1], [1, info.strideHeight, info.strideWidth, 1], padding);
  const [output, workspace] = backend.executeMultipleOutputs('_MklNativeMaxPool', poolAttrs, [input], 2);
  const gradient = backend.executeSingleOutput('_MklNativeMaxPoolGrad', poolAttrs, [input, output!, dy, workspace!]);
  tf.dispose([output!, workspace!]);
  oneDnnMaxPoolGradientStats.calls++;
  return gradient;
}

/**
 * Whether oneDNN's pooling kernels can be run here (they are absent from builds without oneDNN and
 * unused with TF_ENABLE_ONEDNN_OPTS=0) and agree with the eager kernel on a small case with ties.
 */
function probeOneDnnMaxPool(tf: Tf, backend: NativeBackend): boolean {
  if (!capabilities(tf).oneDnn) return false;
  try {
    return tf.tidy(() => {
      const input = tf.tensor4d([3, 1, 2, 3, 0, 5, 5, 1, -1, 4, 2, 2, 7, 0, 7, 6, 1, 1], [1, 3, 3, 2]);
      const dy = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2]);
      const b = backend.binding;
      const poolAttrs = oneDnnPoolAttrs(b, [1, 2, 2, 1], [1, 2, 2, 1], 'SAME');
      const [output, workspace] = backend.executeMultipleOutputs('_MklNativeMaxPool', poolAttrs, [input], 2);
      const fast = backend.executeSingleOutput('_MklNativeMaxPoolGrad', poolAttrs, [input, output!, dy, workspace!]).dataSync();
      const eagerAttrs = [poolAttrs[0], poolAttrs[1], poolAttrs[2], poolAttrs[3], poolAttrs[4]];
      const eager = backend.executeSingleOutput('MaxPoolGrad', eagerAttrs, [input, output!, dy]).dataSync();
      return fast.length === eager.length && fast.every((v, i) => v === eager[i]);
    });
  } catch {
    return false;
  }
}
