import type { Tf } from '../registry/layer-definition.js';

/**
 * Loads TensorFlow.js. Building graphs (compile, validate) needs no particular backend; the pure-JS
 * `cpu` backend is always there. Backend selection for training lives with the trainer.
 */
let loaded: Promise<Tf> | undefined;

export function loadTf(): Promise<Tf> {
  loaded ??= (async () => {
    const tf = (await import('@tensorflow/tfjs')) as unknown as Tf;
    // The cpu backend greets Node users on its first tensor write with advice to install
    // tfjs-node; fer reports its backend choice itself, so that first write happens here, muted.
    const warn = console.warn;
    console.warn = () => {};
    try {
      await tf.setBackend('cpu');
      await tf.ready();
      tf.scalar(0).dispose();
    } finally {
      console.warn = warn;
    }
    return tf;
  })();
  return loaded;
}
