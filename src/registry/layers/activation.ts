import { Type } from '@sinclair/typebox';
import { defineLayer, type LayerDefinition } from '../layer-definition.js';
import { args, initializerRef, regularizerRef } from '../schema-helpers.js';
import { activationDefinitions } from '../activations.js';

export const activation = defineLayer({
  type: 'activation',
  keras: 'Activation',
  family: 'activation',
  summary: 'Applies a named activation function.',
  args: args(
    { activation: Type.Unsafe<string>({ allOf: [{ $ref: '#/definitions/activation' }], description: 'the function' }) },
    { title: 'activation arguments' },
  ),
  build: (a, c) => c.tf.layers.activation({ name: c.name, activation: c.activation(a.activation) as never }),
});

export const relu = defineLayer({
  type: 'relu',
  keras: 'ReLU',
  family: 'activation',
  summary: 'max(x, 0), optionally capped at max_value.',
  args: args(
    {
      max_value: Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.Null()], {
        default: null,
        description: 'cap on the output (null: none)',
      }),
    },
    { title: 'relu arguments' },
  ),
  build: (a, c) => c.tf.layers.reLU({ name: c.name, ...(a.max_value === null ? {} : { maxValue: a.max_value }) }),
});

export const elu = defineLayer({
  type: 'elu',
  keras: 'ELU',
  family: 'activation',
  summary: 'Exponential linear unit.',
  args: args({ alpha: Type.Number({ default: 1, description: 'scale of the negative part' }) }, { title: 'elu arguments' }),
  build: (a, c) => c.tf.layers.elu({ name: c.name, alpha: a.alpha }),
});

export const leakyRelu = defineLayer({
  type: 'leaky_relu',
  keras: 'LeakyReLU',
  family: 'activation',
  summary: 'x for x > 0, alpha * x otherwise.',
  args: args({ alpha: Type.Number({ minimum: 0, default: 0.3, description: 'slope of the negative part' }) }, { title: 'leaky_relu arguments' }),
  build: (a, c) => c.tf.layers.leakyReLU({ name: c.name, alpha: a.alpha }),
});

export const prelu = defineLayer({
  type: 'prelu',
  keras: 'PReLU',
  family: 'activation',
  summary: 'Leaky ReLU with a learned slope.',
  args: args(
    {
      alpha_initializer: initializerRef('zeros', 'how the slope starts'),
      alpha_regularizer: regularizerRef('penalty on the slope'),
      shared_axes: Type.Union([Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1 }), Type.Null()], {
        default: null,
        description: 'axes sharing one slope, e.g. [1, 2] for one slope per channel',
      }),
    },
    { title: 'prelu arguments' },
  ),
  build: (a, c) =>
    c.tf.layers.prelu({
      name: c.name,
      trainable: c.trainable,
      alphaInitializer: c.initializer(a.alpha_initializer, 'alpha'),
      alphaRegularizer: c.regularizer(a.alpha_regularizer),
      ...(a.shared_axes === null ? {} : { sharedAxes: a.shared_axes }),
    }),
});

export const thresholdedRelu = defineLayer({
  type: 'thresholded_relu',
  keras: 'ThresholdedReLU',
  family: 'activation',
  summary: 'x for x > theta, 0 otherwise.',
  args: args({ theta: Type.Number({ minimum: 0, default: 1, description: 'the threshold' }) }, { title: 'thresholded_relu arguments' }),
  build: (a, c) => c.tf.layers.thresholdedReLU({ name: c.name, theta: a.theta }),
});

export const softmax = defineLayer({
  type: 'softmax',
  keras: 'Softmax',
  family: 'activation',
  summary: 'Softmax over an axis (the last by default).',
  args: args({ axis: Type.Integer({ default: -1, description: 'the axis to normalise over' }) }, { title: 'softmax arguments' }),
  build: (a, c) => c.tf.layers.softmax({ name: c.name, axis: a.axis }),
});

/** Activations without arguments of their own also exist as layers: `- tanh` reads better than `- activation: tanh`. */
const dedicated = new Set(['relu', 'elu', 'softmax', 'linear']);
const plainActivationLayers: LayerDefinition[] = activationDefinitions
  .filter((d) => !dedicated.has(d.type))
  .map((d) =>
    defineLayer({
      type: d.type,
      family: 'activation',
      summary: `${d.summary} As a layer.`,
      args: args({}, { title: `${d.type} arguments` }),
      build: (_a, c) => c.tf.layers.activation({ name: c.name, activation: d.tfjs as never }),
    }),
  );

export const activationLayers: LayerDefinition[] = [
  activation,
  relu,
  elu,
  leakyRelu,
  prelu,
  thresholdedRelu,
  softmax,
  ...plainActivationLayers,
];
