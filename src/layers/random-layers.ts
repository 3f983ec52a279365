import type * as tfjs from '@tensorflow/tfjs';
import type { Tf, TfLayer } from '../core/tf.js';
import { deriveSeed } from '../core/seed.js';
import { capabilities } from '../backend/capabilities.js';
import { stepTensor } from '../backend/native/graph-step.js';
import type { NativeBackend } from '../backend/native/native-backend.js';

/**
 * Dropout and noise layers whose randomness is reproducible. tfjs's own draw from Math.random, or,
 * given a seed, draw the same mask at every step. Ours draw from deriveSeed(layer seed, step), where
 * the step is the trainer's global step (setRandomStep), so a run is repeatable and a run resumed at
 * an epoch draws the same masks as an uninterrupted one. At inference they pass inputs through.
 * They are registered with tfjs's serialization under Fer* class names, so saved models reload.
 * On the native backend the draws are TensorFlow's stateless random ops with that seed as a
 * per-step input (stepTensor), so a training step recorded as a TensorFlow function draws anew at
 * every call; elsewhere tfjs's seeded generators draw them (so masks differ between backends).
 */
let currentStep = 0;

/** Called by the trainer before each training batch. */
export function setRandomStep(step: number): void {
  currentStep = step;
}

interface RandomArgs {
  name?: string;
  trainable?: boolean;
  seed: number;
  rate?: number;
  stddev?: number;
  noiseShape?: (number | null)[] | null;
}

type LayerClass = new (args: RandomArgs) => TfLayer;
export interface RandomLayerClasses {
  Dropout: LayerClass;
  GaussianNoise: LayerClass;
  GaussianDropout: LayerClass;
  AlphaDropout: LayerClass;
}

const cache = new WeakMap<object, RandomLayerClasses>();

export function randomLayers(tf: Tf): RandomLayerClasses {
  const existing = cache.get(tf);
  if (existing) return existing;

  abstract class RandomLayer extends tf.layers.Layer {
    readonly seed: number;
    readonly rate: number;
    readonly stddev: number;
    readonly noiseShape: (number | null)[] | null;

    constructor(args: RandomArgs) {
      super({ ...(args.name ? { name: args.name } : {}), trainable: args.trainable ?? true });
      this.seed = args.seed;
      this.rate = args.rate ?? 0;
      this.stddev = args.stddev ?? 0;
      this.noiseShape = args.noiseShape ?? null;
      this.supportsMasking = true;
    }

    protected stepSeed(): number {
      return deriveSeed(this.seed, currentStep);
    }

    /** Uniform in [0, 1), drawn from this step's seed. */
    protected uniform(shape: number[]): tfjs.Tensor {
      if (!capabilities(tf).statelessRandom) return tf.randomUniform(shape, 0, 1, 'float32', this.stepSeed());
      return statelessDraw(tf, 'StatelessRandomUniform', shape, () => this.stepSeed());
    }

    /** Normal with this mean and standard deviation, drawn from this step's seed. */
    protected normal(shape: number[], mean: number, stddev: number): tfjs.Tensor {
      if (!capabilities(tf).statelessRandom) return tf.randomNormal(shape, mean, stddev, 'float32', this.stepSeed());
      return tf.add(tf.mul(statelessDraw(tf, 'StatelessRandomNormal', shape, () => this.stepSeed()), stddev), mean);
    }

    protected shapeFor(x: tfjs.Tensor): number[] {
      if (!this.noiseShape) return x.shape;
      return this.noiseShape.map((d, i) => (d === null ? x.shape[i]! : d));
    }

    override computeOutputShape(inputShape: tfjs.Shape | tfjs.Shape[]): tfjs.Shape | tfjs.Shape[] {
      return inputShape;
    }

    override call(inputs: tfjs.Tensor | tfjs.Tensor[], kwargs: { training?: boolean }): tfjs.Tensor {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      if (!kwargs.training) return tf.clone(x);
      return tf.tidy(() => this.transform(x));
    }

    protected abstract transform(x: tfjs.Tensor): tfjs.Tensor;

    override getConfig(): tfjs.serialization.ConfigDict {
      return { ...super.getConfig(), seed: this.seed, rate: this.rate, stddev: this.stddev, noiseShape: this.noiseShape };
    }
  }

  class FerDropout extends RandomLayer {
    static className = 'FerDropout';
    protected transform(x: tfjs.Tensor): tfjs.Tensor {
      if (this.rate === 0) return tf.clone(x);
      const keep = tf.step(tf.sub(this.uniform(this.shapeFor(x)), this.rate));
      return tf.div(tf.mul(x, keep), 1 - this.rate);
    }
  }

  class FerGaussianNoise extends RandomLayer {
    static className = 'FerGaussianNoise';
    protected transform(x: tfjs.Tensor): tfjs.Tensor {
      return tf.add(x, this.normal(x.shape, 0, this.stddev));
    }
  }

  class FerGaussianDropout extends RandomLayer {
    static className = 'FerGaussianDropout';
    protected transform(x: tfjs.Tensor): tfjs.Tensor {
      if (this.rate === 0) return tf.clone(x);
      const std = Math.sqrt(this.rate / (1 - this.rate));
      return tf.mul(x, this.normal(x.shape, 1, std));
    }
  }

  /** Keeps the mean and variance of selu activations (Klambauer et al. 2017). */
  class FerAlphaDropout extends RandomLayer {
    static className = 'FerAlphaDropout';
    protected transform(x: tfjs.Tensor): tfjs.Tensor {
      if (this.rate === 0) return tf.clone(x);
      const alpha = -1.7580993408473766;
      const keepRate = 1 - this.rate;
      const a = 1 / Math.sqrt(keepRate * (1 + this.rate * alpha * alpha));
      const b = -a * alpha * this.rate;
      const keep = tf.step(tf.sub(this.uniform(x.shape), this.rate));
      const dropped = tf.add(tf.mul(x, keep), tf.mul(tf.sub(1, keep), alpha));
      return tf.add(tf.mul(dropped, a), b);
    }
  }

  for (const cls of [FerDropout, FerGaussianNoise, FerGaussianDropout, FerAlphaDropout]) {
    tf.serialization.registerClass(cls as never);
  }
  const classes: RandomLayerClasses = {
    Dropout: FerDropout as unknown as LayerClass,
    GaussianNoise: FerGaussianNoise as unknown as LayerClass,
    GaussianDropout: FerGaussianDropout as unknown as LayerClass,
    AlphaDropout: FerAlphaDropout as unknown as LayerClass,
  };
  cache.set(tf, classes);
  return classes;
}

/** TensorFlow's stateless random op `op` (uniform or standard normal) of this shape, seeded per step. */
function statelessDraw(tf: Tf, op: 'StatelessRandomUniform' | 'StatelessRandomNormal', shape: number[], seed: () => number): tfjs.Tensor {
  const backend = tf.backend() as unknown as NativeBackend;
  const b = backend.binding;
  return tf.tidy(() =>
    backend.executeSingleOutput(
      op,
      [
        { name: 'dtype', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT },
        { name: 'T', type: b.TF_ATTR_TYPE, value: b.TF_INT32 },
        { name: 'Tseed', type: b.TF_ATTR_TYPE, value: b.TF_INT32 },
      ],
      [tf.tensor1d(shape, 'int32'), stepTensor(tf, () => [seed(), 0], 'int32')],
    ),
  );
}
