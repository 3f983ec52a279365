import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../registry/layer-definition.js';
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
  const replace = (kernelName: string, nativeOp: string) => {
    const original = tf.getGradient(kernelName);
    if (!original) return;
    tf.registerGradient({
      kernelName,
      inputsToSave: original.inputsToSave ?? [],
      outputsToSave: original.outputsToSave ?? [],
      gradFunc: (dy, saved, attrs) => {
        const backend = tf.backend() as unknown as Partial<NativeBackend>;
        const input = saved[0];
        if (tf.getBackend() !== 'tensorflow' || !backend.executeSingleOutput || !input || input.dtype !== 'float32') {
          return original.gradFunc(dy, saved, attrs);
        }
        const b = (backend as NativeBackend).binding;
        // ReluGrad and Relu6Grad take the incoming gradient and the features (the op's input).
        return {
          x: () => (backend as NativeBackend).executeSingleOutput(nativeOp, [floatTypeAttr(b)], [dy as tfjs.Tensor, input]),
        };
      },
    });
  };
  replace('Relu', 'ReluGrad');
  replace('Relu6', 'Relu6Grad');
}
