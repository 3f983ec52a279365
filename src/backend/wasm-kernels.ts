import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../core/tf.js';

/**
 * Training kernels for the wasm backend. As shipped it cannot train convolutions: it has no
 * Conv2DBackpropFilter (nor the depthwise gradients), and its Conv2DBackpropInput is slow. Both conv2d
 * gradients are ordinary forward convolutions in disguise, which wasm runs fast (XNNPACK):
 * - filter gradient: pad x as the forward pass did, make its channels the batch ([Cin, H, W, N]) and
 *   the output gradient the filter ([Ho, Wo, N, Cout]), convolve with dilation = the forward stride,
 *   keep the first kh x kw outputs and transpose to [kh, kw, Cin, Cout];
 * - input gradient: spread the output gradient out by the stride (zeros between), pad it by
 *   kernel - 1 (and what the stride left over), convolve with the flipped filter with its in/out
 *   channels swapped, and crop the forward padding away.
 * The depthwise gradients are cheap (one filter per channel) and are computed directly.
 * Each is checked against the cpu backend on random inputs (test/engine/wasm-kernels.test.ts).
 */
type Tensor4D = tfjs.Tensor4D;
type ConvAttrs = {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tfjs.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: [number, number] | number;
};

const registered = new WeakSet<object>();

function convInfo(tf: Tf, xShape: number[], filterShape: number[], attrs: ConvAttrs, depthwise = false) {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
  );
}

export function conv2dFilterGradient(tf: Tf, x: Tensor4D, dy: Tensor4D, filterShape: number[], attrs: ConvAttrs): tfjs.Tensor4D {
  const info = convInfo(tf, x.shape, filterShape, attrs);
  const { top, bottom, left, right } = info.padInfo;
  return tf.tidy(() => {
    const padded = tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]);
    const input = tf.transpose(padded, [3, 1, 2, 0]); // [Cin, Hp, Wp, N]
    const filter = tf.transpose(dy, [1, 2, 0, 3]); // [Ho, Wo, N, Cout]
    const out = tf.conv2d(input, filter, 1, 'valid', 'NHWC', [info.strideHeight, info.strideWidth]); // [Cin, >=kh, >=kw, Cout]
    const kept = tf.slice(out, [0, 0, 0, 0], [-1, info.filterHeight, info.filterWidth, -1]);
    return tf.transpose(kept, [1, 2, 0, 3]) as Tensor4D;
  });
}

/** Puts stride - 1 zeros between the rows and columns of dy. */
function spread(tf: Tf, dy: Tensor4D, sh: number, sw: number): Tensor4D {
  if (sh === 1 && sw === 1) return dy;
  const [n, h, w, c] = dy.shape;
  const expanded = tf.reshape(dy, [n, h, 1, w, 1, c]);
  const padded = tf.pad(expanded, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
  const flat = tf.reshape(padded, [n, h * sh, w * sw, c]);
  return tf.slice(flat, [0, 0, 0, 0], [n, (h - 1) * sh + 1, (w - 1) * sw + 1, c]) as Tensor4D;
}

export function conv2dInputGradient(tf: Tf, dy: Tensor4D, filter: Tensor4D, inputShape: number[], attrs: ConvAttrs): Tensor4D {
  const info = convInfo(tf, inputShape, filter.shape, attrs);
  const { top, left } = info.padInfo;
  const [, height, width] = inputShape as [number, number, number, number];
  const kh = info.filterHeight;
  const kw = info.filterWidth;
  return tf.tidy(() => {
    const up = spread(tf, dy, info.strideHeight, info.strideWidth);
    const paddedHeight = height + info.padInfo.top + info.padInfo.bottom;
    const paddedWidth = width + info.padInfo.left + info.padInfo.right;
    const full = tf.pad(up, [
      [0, 0],
      [kh - 1, paddedHeight - up.shape[1]],
      [kw - 1, paddedWidth - up.shape[2]],
      [0, 0],
    ]);
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]); // [kh, kw, Cout, Cin]
    const out = tf.conv2d(full, flipped as Tensor4D, 1, 'valid');
    return tf.slice(out, [0, top, left, 0], [-1, height, width, -1]) as Tensor4D;
  });
}

type ConvInfo = ReturnType<typeof convInfo>;

/**
 * Visits every (output position, filter tap) pair of a depthwise convolution that lands inside the
 * input, with the flat offsets of the input pixel, the output pixel and the filter tap. Both
 * gradients are sums over exactly these pairs; only what they multiply differs.
 */
function forEachDepthwiseTap(
  info: ConvInfo,
  [n, h, w, c]: readonly number[],
  [ho, wo, co]: readonly number[],
  visit: (xBase: number, dBase: number, fBase: number) => void,
): void {
  const m = co! / c!;
  const { top, left } = info.padInfo;
  for (let b = 0; b < n!; b++) {
    for (let i = 0; i < ho!; i++) {
      for (let j = 0; j < wo!; j++) {
        const dBase = ((b * ho! + i) * wo! + j) * co!;
        for (let fh = 0; fh < info.filterHeight; fh++) {
          const y = i * info.strideHeight + fh * info.dilationHeight - top;
          if (y < 0 || y >= h!) continue;
          for (let fw = 0; fw < info.filterWidth; fw++) {
            const xx = j * info.strideWidth + fw * info.dilationWidth - left;
            if (xx < 0 || xx >= w!) continue;
            visit(((b * h! + y) * w! + xx) * c!, dBase, (fh * info.filterWidth + fw) * c! * m);
          }
        }
      }
    }
  }
}

/** Depthwise gradients computed directly: one small filter per channel makes these cheap. */
function depthwiseFilterGradient(tf: Tf, x: Tensor4D, dy: Tensor4D, filterShape: number[], attrs: ConvAttrs): tfjs.Tensor4D {
  const info = convInfo(tf, x.shape, filterShape, attrs, true);
  const c = x.shape[3];
  const m = dy.shape[3] / c;
  const xv = x.dataSync();
  const dv = dy.dataSync();
  const out = new Float32Array(info.filterHeight * info.filterWidth * c * m);
  forEachDepthwiseTap(info, x.shape, dy.shape.slice(1), (xBase, dBase, fBase) => {
    for (let ch = 0; ch < c; ch++) {
      const xval = xv[xBase + ch]!;
      for (let q = 0; q < m; q++) out[fBase + ch * m + q]! += xval * dv[dBase + ch * m + q]!;
    }
  });
  return tf.tensor4d(out, filterShape as [number, number, number, number]);
}

function depthwiseInputGradient(tf: Tf, dy: Tensor4D, filter: Tensor4D, inputShape: number[], attrs: ConvAttrs): tfjs.Tensor4D {
  const info = convInfo(tf, inputShape, filter.shape, attrs, true);
  const [n, h, w, c] = inputShape as [number, number, number, number];
  const m = dy.shape[3] / c;
  const fv = filter.dataSync();
  const dv = dy.dataSync();
  const out = new Float32Array(n * h * w * c);
  forEachDepthwiseTap(info, inputShape, dy.shape.slice(1), (xBase, dBase, fBase) => {
    for (let ch = 0; ch < c; ch++) {
      let sum = 0;
      for (let q = 0; q < m; q++) sum += fv[fBase + ch * m + q]! * dv[dBase + ch * m + q]!;
      out[xBase + ch]! += sum;
    }
  });
  return tf.tensor4d(out, inputShape as [number, number, number, number]);
}

/**
 * Registers the kernels for the wasm backend (once per tfjs instance). A kernel may return a
 * Tensor, which tfjs then uses as the output as it is, so the kernels are written with ops.
 */
export function registerWasmTrainingKernels(tf: Tf): void {
  if (registered.has(tf)) return;
  registered.add(tf);
  // The engine hands kernels the input Tensors themselves; wrapping a bare TensorInfo is only a fallback.
  const asTensor = (info: tfjs.TensorInfo) =>
    ((info as Partial<tfjs.Tensor>).rank !== undefined ? info : tf.engine().makeTensorFromTensorInfo(info)) as Tensor4D;
  const register = (kernelName: string, kernelFunc: (args: { inputs: Record<string, tfjs.TensorInfo>; attrs: Record<string, unknown> }) => tfjs.Tensor) => {
    if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as never });
  };
  register('Conv2DBackpropFilter', ({ inputs, attrs }) =>
    conv2dFilterGradient(tf, asTensor(inputs.x!), asTensor(inputs.dy!), attrs.filterShape as number[], attrs as unknown as ConvAttrs),
  );
  register('Conv2DBackpropInput', ({ inputs, attrs }) =>
    conv2dInputGradient(tf, asTensor(inputs.dy!), asTensor(inputs.filter!), attrs.inputShape as number[], attrs as unknown as ConvAttrs),
  );
  register('DepthwiseConv2dNativeBackpropFilter', ({ inputs, attrs }) =>
    depthwiseFilterGradient(tf, asTensor(inputs.x!), asTensor(inputs.dy!), attrs.filterShape as number[], attrs as unknown as ConvAttrs),
  );
  register('DepthwiseConv2dNativeBackpropInput', ({ inputs, attrs }) =>
    depthwiseInputGradient(tf, asTensor(inputs.dy!), asTensor(inputs.filter!), attrs.inputShape as number[], attrs as unknown as ConvAttrs),
  );
}
