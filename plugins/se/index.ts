import type * as tfjs from '@tensorflow/tfjs';
import type { FerPlugin, Tf } from '../../src/plugins/api.js';

/**
 * Squeeze-and-excitation (Hu et al. 2018): each channel is reweighted by a gate computed from the
 * global average of all channels through a small bottleneck MLP. Written `se/squeeze_excite`.
 */
interface SqueezeExciteConfig {
  ratio?: number;
  seed?: number;
  name?: string;
  trainable?: boolean;
}

function squeezeExciteClass(tf: Tf) {
  return class SqueezeExcite extends tf.layers.Layer {
    static className = 'se.SqueezeExcite';
    readonly ratio: number;
    readonly seed: number | undefined;
    private w1!: tfjs.LayerVariable;
    private b1!: tfjs.LayerVariable;
    private w2!: tfjs.LayerVariable;
    private b2!: tfjs.LayerVariable;

    constructor(config: SqueezeExciteConfig) {
      super(config);
      this.ratio = config.ratio ?? 8;
      this.seed = config.seed;
    }

    override build(inputShape: tfjs.Shape | tfjs.Shape[]): void {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfjs.Shape;
      const channels = shape[shape.length - 1]!;
      const hidden = Math.max(1, Math.floor(channels / this.ratio));
      const seed = this.seed ?? 0;
      this.w1 = this.addWeight('squeeze_kernel', [channels, hidden], 'float32', tf.initializers.heNormal({ seed }));
      this.b1 = this.addWeight('squeeze_bias', [hidden], 'float32', tf.initializers.zeros());
      this.w2 = this.addWeight('excite_kernel', [hidden, channels], 'float32', tf.initializers.glorotUniform({ seed: seed + 1 }));
      this.b2 = this.addWeight('excite_bias', [channels], 'float32', tf.initializers.zeros());
      this.built = true;
    }

    override computeOutputShape(inputShape: tfjs.Shape | tfjs.Shape[]): tfjs.Shape | tfjs.Shape[] {
      return inputShape;
    }

    override call(inputs: tfjs.Tensor | tfjs.Tensor[]): tfjs.Tensor {
      return tf.tidy(() => {
        const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tfjs.Tensor4D;
        const squeezed = tf.mean(x, [1, 2]) as tfjs.Tensor2D;
        const hidden = tf.relu(tf.add(tf.matMul(squeezed, this.w1.read() as tfjs.Tensor2D), this.b1.read()));
        const gate = tf.sigmoid(tf.add(tf.matMul(hidden as tfjs.Tensor2D, this.w2.read() as tfjs.Tensor2D), this.b2.read()));
        return tf.mul(x, tf.reshape(gate, [-1, 1, 1, x.shape[3]]));
      });
    }

    override getConfig(): tfjs.serialization.ConfigDict {
      return { ...super.getConfig(), ratio: this.ratio, ...(this.seed !== undefined ? { seed: this.seed } : {}) };
    }
  };
}

const plugin: FerPlugin = {
  name: 'se',
  version: '1.0.0',
  api: 1,
  description: 'Squeeze-and-excitation channel attention, and a conv block using it',
  layers: [
    {
      type: 'squeeze_excite',
      summary: 'Squeeze-and-excitation: scales each channel by a gate from the global average of all channels (Hu et al. 2018).',
      args: {
        type: 'object',
        properties: { ratio: { type: 'integer', minimum: 1, default: 8, description: 'bottleneck reduction: hidden units = channels / ratio' } },
        additionalProperties: false,
      },
      layerClass: squeezeExciteClass,
      checkInput: (shapes) => (shapes[0]?.length === 4 ? undefined : 'se/squeeze_excite needs an image-shaped input (height x width x channels); put it after a convolution'),
    },
  ],
  templates: './templates.yaml',
};

export default plugin;
