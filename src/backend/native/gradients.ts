import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../../core/tf.js';
import { capabilities } from '../capabilities.js';
import { floatTypeAttr, type NativeBackend } from './native-backend.js';

/**
 * Faster gradients on the native backend. tfjs computes the ReLU gradient as dy * step(x), and
 * tfjs-node runs step as several TensorFlow ops (a NaN check and selects): ~6 ms per call on a
 * 32x48x48x16 map here, most of a small CNN's backward pass. TensorFlow has one kernel for it,
 * ReluGrad (and Relu6Grad), so on the native backend the gradients call those; on
 * the other backends tfjs's own gradients run unchanged. Equality with tfjs's gradients is tested.
 */
const registered = new WeakSet<object>();

export function registerNativeGradients(tf: Tf): void {
  if (registered.has(tf) || process.env.FER_TFJS_GRADIENTS === '1') return;
  registered.add(tf);
  const replace = (kernelName: string, nativeOp: 'ReluGrad' | 'Relu6Grad') => {
    const original = tf.getGradient(kernelName);
    if (!original) return;
    tf.registerGradient({
      kernelName,
      inputsToSave: original.inputsToSave ?? [],
      outputsToSave: original.outputsToSave ?? [],
      gradFunc: (dy, saved, attrs) => {
        const backend = tf.backend() as unknown as Partial<NativeBackend>;
        const input = saved[0];
        if (!capabilities(tf).nativeGradients || !backend.executeSingleOutput || !input || input.dtype !== 'float32') {
          return original.gradFunc(dy, saved, attrs);
        }
        return { x: () => nativeActivationGradient(backend as NativeBackend, nativeOp, dy as tfjs.Tensor, input) };
      },
    });
  };
  replace('Relu', 'ReluGrad');
  replace('Relu6', 'Relu6Grad');
}

/**
 * TensorFlow's one-kernel activation gradient (ReluGrad, Relu6Grad): the incoming gradient where the
 * features are in the activation's linear range, 0 elsewhere. The features may be the activation's
 * input or, for relu, its output (positive exactly where the input was).
 */
export function nativeActivationGradient(backend: NativeBackend, op: 'ReluGrad' | 'Relu6Grad', dy: tfjs.Tensor, features: tfjs.Tensor): tfjs.Tensor {
  return backend.executeSingleOutput(op, [floatTypeAttr(backend.binding)], [dy, features]);
}

/**
 * A channels-last bias's gradient (the output gradient summed over batch, height and width) by
 * TensorFlow's BiasAddGrad, which a TensorFlow graph runs for it: 5.2 ms against 9.5 ms for tfjs's
 * sum over three axes, for the reference CNN's nine convolutions at batch 32.
 */
export function nativeBiasGradient(backend: NativeBackend, dy: tfjs.Tensor): tfjs.Tensor {
  const b = backend.binding;
  return backend.executeSingleOutput('BiasAddGrad', [floatTypeAttr(b), { name: 'data_format', type: b.TF_ATTR_STRING, value: 'NHWC' }], [dy]);
}
