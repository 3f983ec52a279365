import type * as tfjs from '@tensorflow/tfjs';
import type { Tf, TfRegularizer } from '../core/tf.js';
import { capabilities } from '../backend/capabilities.js';
import { floatTypeAttr, type NativeBackend } from '../backend/native/native-backend.js';

/**
 * L1/L2 weight penalties with their gradient written out. tfjs's L1L2 regularizer computes
 * sum(l2 * square(w)) from a zeros tensor up, and its gradient comes back through every one of those
 * ops (the sum's gradient alone materialises a tensor of ones the size of the weight): about ten
 * passes over each weight a step. For ResNet-18's 11M L2-penalised weights that was 30% of a training
 * step on the native backend. Here the value is l1 * sum|w| + l2 * sum(w^2) and the gradient is
 * dy * (l1 * sign(w) + 2 * l2 * w) in one or two element-wise ops. The class is tfjs's own L1L2
 * (same config and class name), so saved models load anywhere; only `apply` differs. Equality with
 * tfjs's penalty and gradient is tested.
 */
type RegularizerClass = new (args: { l1?: number; l2?: number }) => TfRegularizer;
/** tfjs's L1L2 class as a concrete base (the typings only expose the abstract Regularizer). */
type L1L2Class = new (args: { l1?: number; l2?: number }) => TfRegularizer & { getConfig(): tfjs.serialization.ConfigDict };
const classes = new WeakMap<object, RegularizerClass>();

function penaltyClass(tf: Tf): RegularizerClass {
  const existing = classes.get(tf);
  if (existing) return existing;
  // tfjs exports the factory, not the class; an instance gives us the class to extend.
  const Base = tf.regularizers.l1l2({ l1: 0, l2: 0 }).constructor as unknown as L1L2Class;

  class WeightPenalty extends Base {
    private readonly rates: { l1: number; l2: number };

    constructor(args: { l1?: number; l2?: number }) {
      super(args);
      this.rates = { l1: args.l1 ?? 0, l2: args.l2 ?? 0 };
    }

    override apply(x: tfjs.Tensor): tfjs.Scalar {
      const { l1, l2 } = this.rates;
      const penalty = tf.customGrad((w, save) => {
        (save as unknown as (tensors: tfjs.Tensor[]) => void)([w as tfjs.Tensor]);
        const value = tf.tidy(() => {
          const terms: tfjs.Tensor[] = [];
          if (l1 !== 0) terms.push(tf.mul(tf.sum(tf.abs(w as tfjs.Tensor)), l1));
          if (l2 !== 0) terms.push(tf.mul(sumOfSquares(tf, w as tfjs.Tensor), l2));
          return (terms.length === 0 ? tf.scalar(0) : terms.length === 1 ? terms[0]! : tf.addN(terms)) as tfjs.Scalar;
        });
        return {
          value,
          gradFunc: (dy: tfjs.Tensor | tfjs.Tensor[], saved: tfjs.Tensor[]) => {
            const weight = saved[0]!;
            const scale = dy as tfjs.Scalar;
            const fromL2 = l2 !== 0 ? tf.mul(weight, tf.mul(scale, 2 * l2)) : undefined;
            const fromL1 = l1 !== 0 ? tf.mul(tf.sign(weight), tf.mul(scale, l1)) : undefined;
            return fromL1 && fromL2 ? tf.add(fromL1, fromL2) : (fromL2 ?? fromL1 ?? tf.zerosLike(weight));
          },
        };
      });
      return penalty(x) as tfjs.Scalar;
    }
  }
  classes.set(tf, WeightPenalty as unknown as RegularizerClass);
  return WeightPenalty as unknown as RegularizerClass;
}

/** An L1/L2 penalty on a weight (tfjs's L1L2, with a direct gradient). */
export function weightPenalty(tf: Tf, l1: number, l2: number): TfRegularizer {
  return new (penaltyClass(tf))({ l1, l2 });
}

/** sum(w^2): on the native backend TensorFlow's L2Loss (sum / 2) reads w once and writes nothing else. */
function sumOfSquares(tf: Tf, w: tfjs.Tensor): tfjs.Tensor {
  if (!capabilities(tf).nativeWeightPenalty || w.dtype !== 'float32') return tf.sum(tf.square(w));
  const backend = tf.backend() as unknown as NativeBackend;
  return tf.mul(backend.executeSingleOutput('L2Loss', [floatTypeAttr(backend.binding)], [w]), 2);
}
