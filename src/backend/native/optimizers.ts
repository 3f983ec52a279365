import type * as tfjs from '@tensorflow/tfjs';
import type { Tf, TfOptimizer } from '../../core/tf.js';
import { describeResourceHandle, onRecordedStepCalls, stepScalar } from './graph-step.js';
import { capabilities } from '../capabilities.js';
import { floatTypeAttr, type NativeBackend } from './native-backend.js';

/**
 * Optimizers that run as TensorFlow's fused training kernels on the native backend. tfjs applies
 * Adam as ~14 element-wise ops per variable, each a full pass over the weights: for ResNet-18's
 * 11M parameters ~1.7 GB of memory traffic and ~220 ms a step here, where TensorFlow's
 * ResourceApplyAdam does it in one pass (~40 ms). The weights and slots live in TensorFlow resource
 * variables (tfjs-node passes resource handles as opaque tensors); after each step the tfjs
 * variable is pointed at the updated value, and a change made to it from outside (a checkpoint
 * load, restoring the best weights) is copied back before the next step.
 * The update rules are TensorFlow's (as Keras): Adam's epsilon is added after bias correction is
 * folded into the rate, which differs from tfjs's Adam by O(epsilon); results are deterministic
 * per backend, not identical across backends.
 * Nothing in a step changes JS state: the iteration count is a TensorFlow variable too (Adam's bias
 * corrections are computed from it by TensorFlow) and the learning rate is a `stepScalar`, so a
 * step recorded as a TensorFlow function (graph-step.ts) stays right at every later call.
 */

export type NativeOptimizerKind = 'adam' | 'sgd' | 'momentum';

export interface NativeOptimizerArgs {
  kind: NativeOptimizerKind;
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  momentum?: number;
  nesterov?: boolean;
  /** Decoupled weight decay of multi-dimensional weights (AdamW). */
  weightDecay?: number;
}

/** What tfjs optimizers exchange as their state (not exported by the tfjs package). */
type NamedTensor = { name: string; tensor: tfjs.Tensor };

interface Slots {
  weight: tfjs.Tensor;
  extra: tfjs.Tensor[];
  /** The tfjs variable's data after our last write: if it differs, someone else wrote it. */
  dataId: object | undefined;
}

const SLOT_COUNT: Record<NativeOptimizerKind, number> = { adam: 2, sgd: 0, momentum: 1 };
let handleCounter = 0;

/** Whether the active backend runs fer's optimizers as TensorFlow's fused kernels (see capabilities.ts). */
export function nativeOptimizersAvailable(tf: Tf): boolean {
  return capabilities(tf).nativeOptimizers;
}

export function createNativeOptimizer(tf: Tf, args: NativeOptimizerArgs): TfOptimizer {
  const backend = tf.backend() as unknown as NativeBackend;
  const b = backend.binding;
  const dtype = { name: 'dtype', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT };
  const T = floatTypeAttr(b);
  const run = (op: string, attrs: unknown[], inputs: tfjs.Tensor[], outputs = 0) => backend.executeMultipleOutputs(op, attrs, inputs, outputs);
  const newVariable = (initial: tfjs.Tensor): tfjs.Tensor => {
    const [handle] = run(
      'VarHandleOp',
      [
        dtype,
        { name: 'shape', type: b.TF_ATTR_SHAPE, value: initial.shape },
        { name: 'container', type: b.TF_ATTR_STRING, value: '' },
        { name: 'shared_name', type: b.TF_ATTR_STRING, value: `fer_optimizer_${process.pid}_${handleCounter++}` },
      ],
      [],
      1,
    );
    run('AssignVariableOp', [dtype], [handle!, initial]);
    describeResourceHandle(handle!, initial.shape);
    return tf.keep(handle!);
  };
  const read = (handle: tfjs.Tensor) => run('ReadVariableOp', [dtype], [handle], 1)[0]!;

  class NativeOptimizer extends tf.Optimizer {
    static className = 'FerNativeOptimizer';
    learningRate = args.learningRate;
    private readonly slots: Slots[] = [];
    private readonly slotsByVariable = new Map<tfjs.Variable, Slots>();
    private readonly unsubscribe = onRecordedStepCalls({
      // A recorded step does not look for writes from outside (a checkpoint loaded, the best weights
      // restored): copied in before each call, as the eager step does.
      before: () => {
        for (const [variable, slots] of this.slotsByVariable) {
          if (slots.dataId !== variable.dataId && !variable.isDisposed) {
            run('AssignVariableOp', [dtype], [slots.weight, variable]);
            slots.dataId = variable.dataId;
          }
        }
      },
      // Its call assigns the variables from TensorFlow's: they stay in step with ours.
      after: (variables) => {
        for (const variable of variables) {
          const slots = this.slotsByVariable.get(variable);
          if (slots) slots.dataId = variable.dataId;
        }
      },
    });
    /** Slot values from setWeights, applied when the variables are first seen. */
    private pending: tfjs.Tensor[] | undefined;
    /** The number of steps taken, as a float32 TensorFlow variable (exact up to 2^24 steps). */
    private stepCount: tfjs.Tensor | undefined;

    /**
     * Creates the TensorFlow variables for these weights (in the order their gradients come) before
     * the first step, so that a step recorded as a function (graph-step.ts) creates none.
     */
    prepare(variables: readonly tfjs.Variable[]): void {
      this.iterationVariable();
      tf.tidy(() => variables.forEach((variable, index) => this.slotsFor(index, variable)));
      tf.dispose(this.pending ?? []);
      this.pending = undefined;
    }

    /** The weight's TensorFlow variables, created at its first step; a write from outside copied in. */
    private slotsFor(index: number, variable: tfjs.Variable): Slots {
      let slots = this.slots[index];
      if (!slots) {
        const initial = this.pending?.slice(index * SLOT_COUNT[args.kind], (index + 1) * SLOT_COUNT[args.kind]);
        slots = {
          weight: newVariable(variable),
          extra: Array.from({ length: SLOT_COUNT[args.kind] }, (_, k) => newVariable(initial?.[k] ?? tf.zerosLike(variable))),
          dataId: variable.dataId,
        };
        this.slots[index] = slots;
        this.slotsByVariable.set(variable, slots);
      } else if (slots.dataId !== variable.dataId) {
        run('AssignVariableOp', [dtype], [slots.weight, variable]);
        slots.dataId = variable.dataId;
      }
      return slots;
    }

    private iterationVariable(): tfjs.Tensor {
      return (this.stepCount ??= tf.tidy(() => newVariable(tf.scalar(0))));
    }

    override applyGradients(gradients: tfjs.NamedTensorMap | NamedTensor[]): void {
      const entries = Array.isArray(gradients) ? gradients.map((g) => [g.name, g.tensor] as const) : Object.entries(gradients);
      const iterations = this.iterationVariable();
      tf.tidy(() => {
        run('AssignAddVariableOp', [dtype], [iterations, tf.scalar(1)]);
        const step = read(iterations);
        const lr = stepScalar(tf, () => this.learningRate);
        const beta1 = args.beta1 ?? 0.9;
        const beta2 = args.beta2 ?? 0.999;
        const power = (base: number) => tf.pow(tf.scalar(base), step);
        const [beta1Power, beta2Power] = args.kind === 'adam' ? [power(beta1), power(beta2)] : [];
        entries.forEach(([name, gradient], index) => {
          const variable = tf.engine().registeredVariables[name];
          if (!variable || !gradient) return;
          const slots = this.slotsFor(index, variable);
          if (args.weightDecay && variable.rank >= 2) {
            run('ResourceApplyGradientDescent', [T, { name: 'use_locking', type: b.TF_ATTR_BOOL, value: false }], [slots.weight, tf.mul(lr, tf.scalar(args.weightDecay)), read(slots.weight)]);
          }
          if (args.kind === 'adam') {
            run(
              'ResourceApplyAdam',
              [T, { name: 'use_locking', type: b.TF_ATTR_BOOL, value: false }, { name: 'use_nesterov', type: b.TF_ATTR_BOOL, value: false }],
              [slots.weight, slots.extra[0]!, slots.extra[1]!, beta1Power!, beta2Power!, lr, tf.scalar(beta1), tf.scalar(beta2), tf.scalar(args.epsilon ?? 1e-7), gradient],
            );
          } else if (args.kind === 'momentum') {
            run(
              'ResourceApplyKerasMomentum',
              [T, { name: 'use_locking', type: b.TF_ATTR_BOOL, value: false }, { name: 'use_nesterov', type: b.TF_ATTR_BOOL, value: args.nesterov ?? false }],
              [slots.weight, slots.extra[0]!, lr, gradient, tf.scalar(args.momentum ?? 0)],
            );
          } else {
            run('ResourceApplyGradientDescent', [T, { name: 'use_locking', type: b.TF_ATTR_BOOL, value: false }], [slots.weight, lr, gradient]);
          }
          variable.assign(read(slots.weight));
          slots.dataId = variable.dataId;
        });
      });
      tf.dispose(this.pending ?? []);
      this.pending = undefined;
    }

    override async getWeights(): Promise<NamedTensor[]> {
      let steps = 0;
      if (this.stepCount) {
        const value = read(this.stepCount);
        steps = (await value.data())[0]!;
        value.dispose();
      }
      const weights: NamedTensor[] = [{ name: 'iter', tensor: tf.scalar(steps, 'int32') }];
      this.slots.forEach((slots, i) => slots.extra.forEach((handle, k) => weights.push({ name: `slot_${i}_${k}`, tensor: read(handle) })));
      return weights;
    }

    override async setWeights(weights: NamedTensor[]): Promise<void> {
      const [iterations, ...rest] = weights;
      const steps = iterations ? (await iterations.tensor.data())[0]! : 0;
      tf.tidy(() => run('AssignVariableOp', [dtype], [this.iterationVariable(), tf.scalar(steps)]));
      // Kept until the variables are seen at the first step (the model may be rebuilt in another process).
      tf.dispose(this.pending ?? []);
      this.pending = rest.map((w) => tf.keep(w.tensor.clone()));
    }

    override dispose(): void {
      for (const slots of this.slots) {
        for (const handle of [slots.weight, ...slots.extra]) {
          run('DestroyResourceOp', [{ name: 'ignore_lookup_error', type: b.TF_ATTR_BOOL, value: true }], [handle]);
          handle.dispose();
        }
      }
      this.slots.length = 0;
      this.slotsByVariable.clear();
      this.unsubscribe();
      if (this.stepCount) {
        run('DestroyResourceOp', [{ name: 'ignore_lookup_error', type: b.TF_ATTR_BOOL, value: true }], [this.stepCount]);
        this.stepCount.dispose();
        this.stepCount = undefined;
      }
      tf.dispose(this.pending ?? []);
      this.pending = undefined;
    }

    override getConfig(): tfjs.serialization.ConfigDict {
      return { ...args };
    }
  }
  return new NativeOptimizer() as unknown as TfOptimizer;
}
