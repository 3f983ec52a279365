import type * as tfjs from '@tensorflow/tfjs';
import type { FerPlugin, Tf } from '../../src/plugins/api.js';

/**
 * Mish (Misra 2019), x * tanh(softplus(x)), with a learnable slope per channel:
 * y = x * tanh(softplus(beta * x)), beta starting at 1 (plain Mish) and trained with the rest.
 * A layer with its own trainable weights, written from scratch. Written `mish/mish`.
 */
interface MishConfig {
  learnable?: boolean;
  name?: string;
  trainable?: boolean;
  seed?: number;
}

function mishClass(tf: Tf) {
  return class Mish extends tf.layers.Layer {
    static className = 'mish.Mish';
    readonly learnable: boolean;
    private beta: tfjs.LayerVariable | undefined;

    constructor(config: MishConfig) {
      super(config);
      this.learnable = config.learnable ?? true;
    }

    override build(inputShape: tfjs.Shape | tfjs.Shape[]): void {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfjs.Shape;
      if (this.learnable) this.beta = this.addWeight('beta', [shape[shape.length - 1]!], 'float32', tf.initializers.ones());
      this.built = true;
    }

    override computeOutputShape(inputShape: tfjs.Shape | tfjs.Shape[]): tfjs.Shape | tfjs.Shape[] {
      return inputShape;
    }

    override call(inputs: tfjs.Tensor | tfjs.Tensor[]): tfjs.Tensor {
      return tf.tidy(() => {
        const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tfjs.Tensor;
        const scaled = this.beta ? tf.mul(x, this.beta.read()) : x;
        return tf.mul(x, tf.tanh(tf.softplus(scaled)));
      });
    }

    override getConfig(): tfjs.serialization.ConfigDict {
      return { ...super.getConfig(), learnable: this.learnable };
    }
  };
}

const plugin: FerPlugin = {
  name: 'mish',
  version: '1.0.0',
  api: 1,
  description: 'Mish activation with a learnable slope per channel',
  layers: [
    {
      type: 'mish',
      summary: 'Mish activation x * tanh(softplus(beta x)), beta learnable per channel (1 at the start: plain Mish).',
      args: {
        type: 'object',
        properties: { learnable: { type: 'boolean', default: true, description: 'learn beta per channel (false: plain Mish, no weights)' } },
        additionalProperties: false,
      },
      layerClass: mishClass,
    },
  ],
};

export default plugin;
