import { Type, type TObject } from '@sinclair/typebox';
import type { ArgsOf, ArgsSchema, Definition } from './registry.js';
import type { Tf, TfOptimizer } from '../core/tf.js';
import { args } from './schema-helpers.js';

/**
 * TensorFlow's fused training kernels, as the native backend offers them (backend/native/
 * optimizers.ts): one pass over the weights per step where tfjs makes ~14, and a step that can be
 * recorded as one TensorFlow function. engine/optimizer.ts hands them to `buildNative`.
 */
export interface NativeKernels {
  adam(options: { learningRate: number; beta1: number; beta2: number; epsilon: number; weightDecay?: number }): TfOptimizer;
  sgd(options: { learningRate: number }): TfOptimizer;
  momentum(options: { learningRate: number; momentum: number; nesterov: boolean }): TfOptimizer;
}

/** Optimizers (`training.optimizer`). `learning_rate` is every optimizer's base rate, which schedules and stages change. */
export interface OptimizerDefinition<A extends ArgsSchema = ArgsSchema> extends Definition {
  readonly keras?: string;
  readonly args: A;
  build(args: ArgsOf<A>, tf: Tf): TfOptimizer;
  /** The same optimizer on TensorFlow's fused kernels, used instead of `build` on the native backend. */
  buildNative?(args: ArgsOf<A>, native: NativeKernels): TfOptimizer;
}

function define<A extends TObject>(d: OptimizerDefinition<A>): OptimizerDefinition<A> {
  return d;
}

const learningRate = (value: number) => Type.Number({ exclusiveMinimum: 0, default: value, description: 'step size' });

export const optimizerDefinitions: OptimizerDefinition[] = [
  define({
    type: 'sgd',
    keras: 'SGD',
    summary: 'Stochastic gradient descent, with optional (Nesterov) momentum.',
    args: args(
      {
        learning_rate: learningRate(0.01),
        momentum: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
        nesterov: Type.Boolean({ default: false }),
      },
      { title: 'sgd arguments' },
    ),
    build: (a, tf) =>
      a.momentum > 0 || a.nesterov ? tf.train.momentum(a.learning_rate, a.momentum, a.nesterov) : tf.train.sgd(a.learning_rate),
    buildNative: (a, native) =>
      a.momentum > 0 || a.nesterov ? native.momentum({ learningRate: a.learning_rate, momentum: a.momentum, nesterov: a.nesterov }) : native.sgd({ learningRate: a.learning_rate }),
  }),
  define({
    type: 'adam',
    keras: 'Adam',
    summary: 'Adam (Kingma & Ba 2014).',
    args: args(
      {
        learning_rate: learningRate(0.001),
        beta_1: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.9 }),
        beta_2: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.999 }),
        epsilon: Type.Number({ exclusiveMinimum: 0, default: 1e-7 }),
      },
      { title: 'adam arguments' },
    ),
    build: (a, tf) => tf.train.adam(a.learning_rate, a.beta_1, a.beta_2, a.epsilon),
    buildNative: (a, native) => native.adam({ learningRate: a.learning_rate, beta1: a.beta_1, beta2: a.beta_2, epsilon: a.epsilon }),
  }),
  define({
    type: 'adamw',
    keras: 'AdamW',
    summary: 'Adam with decoupled weight decay (Loshchilov & Hutter 2019): kernels shrink by learning_rate x weight_decay each step; biases and normalisation parameters do not.',
    args: args(
      {
        learning_rate: learningRate(0.001),
        weight_decay: Type.Number({ minimum: 0, default: 0.004, description: 'as in Keras' }),
        beta_1: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.9 }),
        beta_2: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.999 }),
        epsilon: Type.Number({ exclusiveMinimum: 0, default: 1e-7 }),
      },
      { title: 'adamw arguments' },
    ),
    build: (a, tf) => {
      // tfjs has no AdamW; Adam plus a decay of the multi-dimensional weights before each update.
      const optimizer = tf.train.adam(a.learning_rate, a.beta_1, a.beta_2, a.epsilon);
      const applyGradients = optimizer.applyGradients.bind(optimizer);
      optimizer.applyGradients = (gradients) => {
        const names = Array.isArray(gradients) ? gradients.map((g) => g.name) : Object.keys(gradients);
        // The current rate (a schedule may have changed it); tfjs keeps the field protected.
        const rate = (optimizer as unknown as { learningRate: number }).learningRate;
        tf.tidy(() => {
          for (const name of names) {
            const variable = tf.engine().registeredVariables[name];
            if (variable && variable.rank >= 2) variable.assign(tf.mul(variable, 1 - rate * a.weight_decay));
          }
        });
        applyGradients(gradients);
      };
      return optimizer;
    },
    buildNative: (a, native) =>
      native.adam({ learningRate: a.learning_rate, beta1: a.beta_1, beta2: a.beta_2, epsilon: a.epsilon, weightDecay: a.weight_decay }),
  }),
  define({
    type: 'rmsprop',
    keras: 'RMSprop',
    summary: 'RMSprop.',
    args: args(
      {
        learning_rate: learningRate(0.001),
        rho: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.9 }),
        momentum: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
        epsilon: Type.Number({ exclusiveMinimum: 0, default: 1e-7 }),
        centered: Type.Boolean({ default: false }),
      },
      { title: 'rmsprop arguments' },
    ),
    build: (a, tf) => tf.train.rmsprop(a.learning_rate, a.rho, a.momentum, a.epsilon, a.centered),
  }),
  define({
    type: 'adagrad',
    keras: 'Adagrad',
    summary: 'Adagrad.',
    args: args(
      { learning_rate: learningRate(0.01), initial_accumulator_value: Type.Number({ exclusiveMinimum: 0, default: 0.1 }) },
      { title: 'adagrad arguments' },
    ),
    build: (a, tf) => tf.train.adagrad(a.learning_rate, a.initial_accumulator_value),
  }),
  define({
    type: 'adamax',
    keras: 'Adamax',
    summary: 'Adamax (Adam with the infinity norm).',
    args: args(
      {
        learning_rate: learningRate(0.002),
        beta_1: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.9 }),
        beta_2: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.999 }),
        epsilon: Type.Number({ exclusiveMinimum: 0, default: 1e-7 }),
      },
      { title: 'adamax arguments' },
    ),
    build: (a, tf) => tf.train.adamax(a.learning_rate, a.beta_1, a.beta_2, a.epsilon),
  }),
  define({
    type: 'adadelta',
    keras: 'Adadelta',
    summary: 'Adadelta.',
    args: args(
      {
        learning_rate: learningRate(1),
        rho: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.95 }),
        epsilon: Type.Number({ exclusiveMinimum: 0, default: 1e-7 }),
      },
      { title: 'adadelta arguments' },
    ),
    build: (a, tf) => tf.train.adadelta(a.learning_rate, a.rho, a.epsilon),
  }),
];
