import type { Tf } from '../../src/core/tf.js';

/**
 * The reference study's two models written by hand with tfjs-layers, as a researcher would without
 * fer: the baseline for the compile and (later) training benchmarks, and an independent check of
 * fer's graphs (a test compares them layer by layer).
 */
type Sym = ReturnType<Tf['input']>;

export function handWrittenCnn(tf: Tf, classes = 7): ReturnType<Tf['model']> {
  const input = tf.input({ shape: [48, 48, 1] });
  let x: Sym = input;
  const conv = (filters: number, kernel: number) => {
    x = tf.layers.conv2d({ filters, kernelSize: kernel, activation: 'relu', kernelInitializer: 'glorotUniform' }).apply(x) as Sym;
  };
  conv(32, 5);
  conv(64, 3);
  conv(64, 3);
  conv(128, 3);
  x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x) as Sym;
  conv(128, 3);
  conv(64, 2);
  conv(64, 2);
  x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x) as Sym;
  conv(64, 1);
  conv(64, 1);
  x = tf.layers.flatten().apply(x) as Sym;
  x = tf.layers.dense({ units: 128, activation: 'tanh' }).apply(x) as Sym;
  x = tf.layers.dense({ units: 32, activation: 'tanh' }).apply(x) as Sym;
  const output = tf.layers.dense({ units: classes, activation: 'softmax' }).apply(x) as Sym;
  return tf.model({ inputs: input, outputs: output });
}

/** keras-resnet's ResNet-18: pre-activation basic blocks, projection shortcuts where the shape changes. */
export function handWrittenResnet18(tf: Tf, classes = 7): ReturnType<Tf['model']> {
  const l2 = () => tf.regularizers.l2({ l2: 1e-4 });
  const conv = (x: Sym, filters: number, kernel: number, strides = 1, padding: 'same' | 'valid' = 'same') =>
    tf.layers
      .conv2d({ filters, kernelSize: kernel, strides, padding, kernelInitializer: 'heNormal', kernelRegularizer: l2() })
      .apply(x) as Sym;
  const bnRelu = (x: Sym) => tf.layers.reLU().apply(tf.layers.batchNormalization({ axis: -1 }).apply(x)) as Sym;

  const input = tf.input({ shape: [48, 48, 1] });
  let x = bnRelu(conv(input, 64, 7, 2));
  x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(x) as Sym;
  const stages = [64, 128, 256, 512];
  stages.forEach((filters, stage) => {
    for (let block = 0; block < 2; block++) {
      const strides = block === 0 && stage > 0 ? 2 : 1;
      const first = stage === 0 && block === 0;
      const blockInput = x;
      let y = conv(first ? blockInput : bnRelu(blockInput), filters, 3, strides);
      y = conv(bnRelu(y), filters, 3);
      const channels = blockInput.shape[3];
      const shortcut = strides !== 1 || channels !== filters ? conv(blockInput, filters, 1, strides, 'valid') : blockInput;
      x = tf.layers.add().apply([shortcut, y]) as Sym;
    }
  });
  x = bnRelu(x);
  x = tf.layers.averagePooling2d({ poolSize: [x.shape[1] as number, x.shape[2] as number], strides: 1 }).apply(x) as Sym;
  x = tf.layers.flatten().apply(x) as Sym;
  const output = tf.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: 'heNormal' }).apply(x) as Sym;
  return tf.model({ inputs: input, outputs: output });
}
