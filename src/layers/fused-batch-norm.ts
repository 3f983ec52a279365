import type * as tfjs from '@tensorflow/tfjs';
import type { Tf, TfLayer } from '../core/tf.js';
import { capabilities } from '../backend/capabilities.js';
import { floatTypeAttr, type NativeBackend } from '../backend/native/native-backend.js';

/**
 * Batch normalization that trains through TensorFlow's fused kernels on the native backend.
 * tfjs-layers trains batch norm as moments + batchNorm with a gradient assembled from many small
 * ops, each a pass over memory; TensorFlow has single kernels for the forward pass and its gradient
 * (FusedBatchNormV3, FusedBatchNormGradV3), which tfjs-node can run by name. This layer is tfjs's
 * own BatchNormalization (same weights, config, serialization) whose training step on the native
 * backend, for channels-last 4D inputs, goes through those kernels wrapped in tf.customGrad; every
 * other case (inference, other backends, other ranks) takes the portable path unchanged.
 * Equality of outputs, gradients and moving statistics with the portable path is tested.
 */
/** The BatchNormalization internals the fused path reads (they are private in tfjs's typings). */
interface BatchNormInternals {
  axis: number;
  epsilon: number;
  momentum: number;
  center: boolean;
  scale: boolean;
  gamma?: { read(): tfjs.Tensor };
  beta?: { read(): tfjs.Tensor };
  movingMean: { read(): tfjs.Tensor; write(value: tfjs.Tensor): void };
  movingVariance: { read(): tfjs.Tensor; write(value: tfjs.Tensor): void };
}

type BatchNormClass = new (args: Record<string, unknown>) => TfLayer;
const cache = new WeakMap<object, BatchNormClass>();

/** Counts fused training steps: tests and benchmarks check the fast path is really taken. */
export const fusedBatchNormStats = { steps: 0 };

/**
 * One training step of batch norm through FusedBatchNormV3. With `running`, the kernel also updates
 * the moving statistics (exponential_avg_factor = `running.factor`) and returns them in place of the
 * batch's: one op instead of a chain of small ones per layer and step.
 */
export function fusedBatchNormTraining(
  tf: Tf,
  backend: NativeBackend,
  x: tfjs.Tensor4D,
  gamma: tfjs.Tensor1D,
  beta: tfjs.Tensor1D,
  epsilon: number,
  running?: { mean: tfjs.Tensor1D; variance: tfjs.Tensor1D; factor: number },
): { y: tfjs.Tensor4D; mean: tfjs.Tensor1D; variance: tfjs.Tensor1D } {
  const b = backend.binding;
  const common = [
    floatTypeAttr(b),
    { name: 'U', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT },
    { name: 'epsilon', type: b.TF_ATTR_FLOAT, value: epsilon },
    { name: 'data_format', type: b.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'is_training', type: b.TF_ATTR_BOOL, value: true },
  ];
  let stats: [tfjs.Tensor1D, tfjs.Tensor1D] | undefined;
  const forward = tf.customGrad((input, scale, offset, save) => {
    const empty = running ? undefined : tf.tensor1d([]);
    const [y, batchMean, batchVariance, r1, r2, r3] = backend.executeMultipleOutputs(
      'FusedBatchNormV3',
      [...common, { name: 'exponential_avg_factor', type: b.TF_ATTR_FLOAT, value: running?.factor ?? 1 }],
      [input as tfjs.Tensor, scale as tfjs.Tensor, offset as tfjs.Tensor, running?.mean ?? empty!, running?.variance ?? empty!],
      6,
    );
    empty?.dispose();
    stats = [tf.keep(batchMean!) as tfjs.Tensor1D, tf.keep(batchVariance!) as tfjs.Tensor1D];
    // customGrad passes the save function last, typed like the tensors before it.
    (save as unknown as (tensors: tfjs.Tensor[]) => void)([input as tfjs.Tensor, scale as tfjs.Tensor, r1!, r2!, r3!]);
    return {
      value: y!,
      gradFunc: (dy: tfjs.Tensor | tfjs.Tensor[], saved: tfjs.Tensor[]) => {
        const [sx, sScale, s1, s2, s3] = saved;
        const [dx, dScale, dOffset, extra1, extra2] = backend.executeMultipleOutputs(
          'FusedBatchNormGradV3',
          common,
          [dy as tfjs.Tensor, sx!, sScale!, s1!, s2!, s3!],
          5,
        );
        tf.dispose([extra1!, extra2!]);
        return [dx!, dScale!, dOffset!];
      },
    };
  });
  const y = forward(x, gamma, beta) as tfjs.Tensor4D;
  return { y, mean: stats![0], variance: stats![1] };
}

/** fer's batch-norm layer class for a tfjs instance (registered for serialization as FerBatchNormalization). */
export function batchNormLayerClass(tf: Tf): BatchNormClass {
  const existing = cache.get(tf);
  if (existing) return existing;
  // tfjs exports the factory, not the class; an instance gives us the class to extend.
  const Base = tf.layers.batchNormalization({}).constructor as unknown as new (args: Record<string, unknown>) => tfjs.layers.Layer;

  class FerBatchNormalization extends Base {
    static className = 'FerBatchNormalization';

    override call(inputs: tfjs.Tensor | tfjs.Tensor[], kwargs: Record<string, unknown>): tfjs.Tensor | tfjs.Tensor[] {
      // A frozen batch norm normalises with its moving statistics and leaves them alone, as in
      // Keras: fine-tuning with a frozen body must not shift the body's statistics.
      if (!this.trainable && kwargs.training === true) return super.call(inputs, { ...kwargs, training: false });
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const self = this as unknown as BatchNormInternals;
      const fused = kwargs.training === true && capabilities(tf).fusedBatchNorm && x.rank === 4 && (self.axis === -1 || self.axis === 3) && x.dtype === 'float32';
      if (!fused) return super.call(inputs, kwargs);
      return tf.tidy(() => {
        const channels = x.shape[3]!;
        const gamma = (self.scale && self.gamma ? self.gamma.read() : tf.ones([channels])) as tfjs.Tensor1D;
        const beta = (self.center && self.beta ? self.beta.read() : tf.zeros([channels])) as tfjs.Tensor1D;
        const backend = tf.backend() as unknown as NativeBackend;
        const n = x.size / channels;
        const decay = 1 - self.momentum;
        if (n > 1) {
          // The kernel updates the moving statistics itself, but averages the Bessel-corrected batch
          // variance where tfjs-layers averages the plain one. Feeding it the moving variance divided
          // by c = (n-1)/n and multiplying its result by c gives (1-d) v + d c v_corrected = the plain
          // average, so both paths (and so all backends) keep the same moving statistics.
          const bessel = (n - 1) / n;
          const running = { mean: self.movingMean.read() as tfjs.Tensor1D, variance: tf.div(self.movingVariance.read(), bessel) as tfjs.Tensor1D, factor: decay };
          const { y, mean, variance } = fusedBatchNormTraining(tf, backend, x as tfjs.Tensor4D, gamma, beta, self.epsilon, running);
          self.movingMean.write(mean);
          self.movingVariance.write(tf.mul(variance, bessel));
          // The statistics were kept out of the customGrad's scope; the variables hold their own reference.
          tf.dispose([mean, variance]);
          fusedBatchNormStats.steps++;
          return y;
        }
        const { y, mean, variance } = fusedBatchNormTraining(tf, backend, x as tfjs.Tensor4D, gamma, beta, self.epsilon);
        // One value per channel: the plain batch variance is 0 (TensorFlow's corrected one undefined).
        self.movingMean.write(tf.sub(self.movingMean.read(), tf.mul(tf.sub(self.movingMean.read(), mean), decay)));
        self.movingVariance.write(tf.sub(self.movingVariance.read(), tf.mul(self.movingVariance.read(), decay)));
        tf.dispose([mean, variance]);
        fusedBatchNormStats.steps++;
        return y;
      });
    }
  }
  tf.serialization.registerClass(FerBatchNormalization as never);
  cache.set(tf, FerBatchNormalization as unknown as BatchNormClass);
  return FerBatchNormalization as unknown as BatchNormClass;
}
