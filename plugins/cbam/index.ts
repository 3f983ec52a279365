import type * as tfjs from '@tensorflow/tfjs';
import type { FerPlugin, Tf } from '../../src/plugins/api.js';

/**
 * CBAM-style attention (Woo et al. 2018): channel attention from average- and max-pooled features
 * through a shared bottleneck MLP, then spatial attention from a convolution over the channel-wise
 * average and maximum maps. Written `cbam/attention`.
 */
interface CbamConfig {
  ratio?: number;
  kernelSize?: number;
  seed?: number;
  name?: string;
  trainable?: boolean;
}

function cbamClass(tf: Tf) {
  return class CbamAttention extends tf.layers.Layer {
    static className = 'cbam.Attention';
    readonly ratio: number;
    readonly kernelSize: number;
    readonly seed: number | undefined;
    private w1!: tfjs.LayerVariable;
    private b1!: tfjs.LayerVariable;
    private w2!: tfjs.LayerVariable;
    private b2!: tfjs.LayerVariable;
    private spatialKernel!: tfjs.LayerVariable;
    private spatialBias!: tfjs.LayerVariable;

    constructor(config: CbamConfig) {
      super(config);
      this.ratio = config.ratio ?? 8;
      this.kernelSize = config.kernelSize ?? 7;
      this.seed = config.seed;
    }

    override build(inputShape: tfjs.Shape | tfjs.Shape[]): void {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfjs.Shape;
      const channels = shape[shape.length - 1]!;
      const hidden = Math.max(1, Math.floor(channels / this.ratio));
      const seed = this.seed ?? 0;
      this.w1 = this.addWeight('channel_kernel_1', [channels, hidden], 'float32', tf.initializers.heNormal({ seed }));
      this.b1 = this.addWeight('channel_bias_1', [hidden], 'float32', tf.initializers.zeros());
      this.w2 = this.addWeight('channel_kernel_2', [hidden, channels], 'float32', tf.initializers.glorotUniform({ seed: seed + 1 }));
      this.b2 = this.addWeight('channel_bias_2', [channels], 'float32', tf.initializers.zeros());
      this.spatialKernel = this.addWeight('spatial_kernel', [this.kernelSize, this.kernelSize, 2, 1], 'float32', tf.initializers.glorotUniform({ seed: seed + 2 }));
      this.spatialBias = this.addWeight('spatial_bias', [1], 'float32', tf.initializers.zeros());
      this.built = true;
    }

    override computeOutputShape(inputShape: tfjs.Shape | tfjs.Shape[]): tfjs.Shape | tfjs.Shape[] {
      return inputShape;
    }

    override call(inputs: tfjs.Tensor | tfjs.Tensor[]): tfjs.Tensor {
      return tf.tidy(() => {
        const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tfjs.Tensor4D;
        const mlp = (v: tfjs.Tensor2D) =>
          tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(v, this.w1.read() as tfjs.Tensor2D), this.b1.read())) as tfjs.Tensor2D, this.w2.read() as tfjs.Tensor2D), this.b2.read());
        const channelGate = tf.sigmoid(tf.add(mlp(tf.mean(x, [1, 2]) as tfjs.Tensor2D), mlp(tf.max(x, [1, 2]) as tfjs.Tensor2D)));
        const refined = tf.mul(x, tf.reshape(channelGate, [-1, 1, 1, x.shape[3]])) as tfjs.Tensor4D;
        const pooled = tf.concat([tf.mean(refined, -1, true), tf.max(refined, -1, true)], -1) as tfjs.Tensor4D;
        const spatialGate = tf.sigmoid(tf.add(tf.conv2d(pooled, this.spatialKernel.read() as tfjs.Tensor4D, 1, 'same'), this.spatialBias.read()));
        return tf.mul(refined, spatialGate);
      });
    }

    override getConfig(): tfjs.serialization.ConfigDict {
      return { ...super.getConfig(), ratio: this.ratio, kernelSize: this.kernelSize, ...(this.seed !== undefined ? { seed: this.seed } : {}) };
    }
  };
}

const plugin: FerPlugin = {
  name: 'cbam',
  version: '1.0.0',
  api: 1,
  description: 'Convolutional block attention: channel then spatial attention',
  layers: [
    {
      type: 'attention',
      summary: 'CBAM attention: channel gates from average and max pooling through a shared MLP, then a spatial gate from a convolution (Woo et al. 2018).',
      args: {
        type: 'object',
        properties: {
          ratio: { type: 'integer', minimum: 1, default: 8, description: 'channel MLP reduction: hidden units = channels / ratio' },
          kernel_size: { type: 'integer', minimum: 1, default: 7, description: 'size of the spatial attention convolution' },
        },
        additionalProperties: false,
      },
      layerClass: cbamClass,
      checkInput: (shapes) => (shapes[0]?.length === 4 ? undefined : 'cbam/attention needs an image-shaped input (height x width x channels); put it after a convolution'),
    },
  ],
};

export default plugin;
