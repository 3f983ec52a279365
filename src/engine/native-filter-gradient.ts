import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../registry/layer-definition.js';

/**
 * A faster convolution filter gradient on the native backend for small feature maps.
 * TensorFlow's Conv2DBackpropFilter is slow when the output map is tiny and the channels wide:
 * ResNet-18's last stage (2x2 maps, 512 -> 512 channels, 3x3) takes ~31-42 ms a layer here, about
 * 15-20 GFLOP/s, a quarter of a ResNet-18 training step for its three such layers. There the
 * gradient is cheaper as im2col: ExtractImagePatches lays out the input windows as the rows of a
 * matrix (tiny, since the map is), and one MatMul with the output gradient gives the filter
 * gradient: 3.6x faster for that layer, 2.8x for the 1x1 stride-2 projection before it, 1.0-1.25x
 * on 3x3 maps. On larger maps the patch matrix grows with kh*kw and the native kernel wins, so
 * only outputs of at most SMALL_OUTPUT_AREA positions take this path (measured crossover).
 * Equality with TensorFlow's kernel is tested; `FER_TFJS_GRADIENTS=1` turns it off with the rest.
 */
interface Binding {
  TF_ATTR_TYPE: number;
  TF_ATTR_INT: number;
  TF_ATTR_STRING: number;
  TF_ATTR_BOOL: number;
  TF_FLOAT: number;
}
interface NativeBackend {
  binding: Binding;
  executeSingleOutput(name: string, attrs: unknown[], inputs: tfjs.Tensor[]): tfjs.Tensor;
}

/** Output maps up to this many positions (3x3) take the im2col path. */
export const SMALL_OUTPUT_AREA = 9;

/** Counts filter gradients computed by the im2col path: tests check it is really taken. */
export const im2colFilterGradientStats = { calls: 0 };

interface FilterGradientAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tfjs.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

const registered = new WeakSet<object>();

export function registerNativeFilterGradient(tf: Tf): void {
  if (registered.has(tf) || process.env.FER_TFJS_GRADIENTS === '1') return;
  const original = tf.getKernel('Conv2DBackpropFilter', 'tensorflow');
  if (!original) return;
  registered.add(tf);
  tf.unregisterKernel('Conv2DBackpropFilter', 'tensorflow');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'tensorflow',
    kernelFunc: (args) => {
      const { x, dy } = args.inputs as { x: tfjs.Tensor4D; dy: tfjs.Tensor4D };
      const attrs = args.attrs as unknown as FilterGradientAttrs;
      const backend = args.backend as unknown as NativeBackend;
      const result = im2colFilterGradient(tf, backend, x, dy, attrs);
      return result ?? original.kernelFunc(args);
    },
  });
}

/** The filter gradient by im2col, or undefined where the native kernel is faster or the case is not covered. */
function im2colFilterGradient(tf: Tf, backend: NativeBackend, x: tfjs.Tensor4D, dy: tfjs.Tensor4D, attrs: FilterGradientAttrs): tfjs.Tensor | undefined {
  if (attrs.dataFormat !== 'NHWC' || x.dtype !== 'float32' || dy.dtype !== 'float32') return undefined;
  const info = tf.backend_util.computeConv2DInfo(x.shape, attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const padding = info.padInfo.type;
  if (padding !== 'SAME' && padding !== 'VALID') return undefined;
  if (info.outHeight * info.outWidth > SMALL_OUTPUT_AREA) return undefined;
  const [kh, kw, inChannels, outChannels] = attrs.filterShape;
  const b = backend.binding;
  const floatType = { name: 'T', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT };
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
  const filterGradient = tf.reshape(product, attrs.filterShape);
  tf.dispose([patchMatrix, gradientMatrix, product]);
  if (patches !== x) patches.dispose();
  im2colFilterGradientStats.calls++;
  return filterGradient;
}
