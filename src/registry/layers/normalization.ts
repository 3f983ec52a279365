import { Type } from '@sinclair/typebox';
import { defineLayer, requireRank, type LayerDefinition } from '../layer-definition.js';
import { formatShape } from '../../core/tf.js';
import { batchNormLayerClass } from '../../layers/fused-batch-norm.js';
import { randomLayers } from '../../layers/random-layers.js';
import { args, initializerRef, Rate, regularizerRef } from '../schema-helpers.js';

export const batchNorm = defineLayer({
  type: 'batch_norm',
  keras: 'BatchNormalization',
  aliases: ['batchnorm', 'bn', 'batch_normalization'],
  family: 'normalization',
  summary: 'Batch normalization: normalise each channel with batch statistics while training, moving averages after.',
  args: args(
    {
      axis: Type.Integer({ default: -1, description: 'the channel axis (-1: last)' }),
      momentum: Type.Number({ minimum: 0, maximum: 1, default: 0.99, description: 'of the moving averages' }),
      epsilon: Type.Number({ exclusiveMinimum: 0, default: 0.001, description: 'added to the variance' }),
      center: Type.Boolean({ default: true, description: 'learn an offset (beta)' }),
      scale: Type.Boolean({ default: true, description: 'learn a scale (gamma)' }),
      beta_initializer: initializerRef('zeros', 'how beta starts'),
      gamma_initializer: initializerRef('ones', 'how gamma starts'),
      moving_mean_initializer: initializerRef('zeros', 'how the moving mean starts'),
      moving_variance_initializer: initializerRef('ones', 'how the moving variance starts'),
      beta_regularizer: regularizerRef('penalty on beta'),
      gamma_regularizer: regularizerRef('penalty on gamma'),
    },
    { title: 'batch_norm arguments' },
  ),
  // tfjs's BatchNormalization, trained through TensorFlow's fused kernels on the native backend.
  build: (a, c) =>
    new (batchNormLayerClass(c.tf))({
      name: c.name,
      trainable: c.trainable,
      axis: a.axis,
      momentum: a.momentum,
      epsilon: a.epsilon,
      center: a.center,
      scale: a.scale,
      betaInitializer: c.initializer(a.beta_initializer, 'beta'),
      gammaInitializer: c.initializer(a.gamma_initializer, 'gamma'),
      movingMeanInitializer: c.initializer(a.moving_mean_initializer, 'moving_mean'),
      movingVarianceInitializer: c.initializer(a.moving_variance_initializer, 'moving_variance'),
      betaRegularizer: c.regularizer(a.beta_regularizer),
      gammaRegularizer: c.regularizer(a.gamma_regularizer),
    }),
});

export const layerNorm = defineLayer({
  type: 'layer_norm',
  keras: 'LayerNormalization',
  aliases: ['layernorm', 'layer_normalization'],
  family: 'normalization',
  summary: 'Layer normalization: normalise each example over the given axes.',
  args: args(
    {
      axis: Type.Integer({ default: -1, description: 'the axis to normalise over (-1: last)' }),
      epsilon: Type.Number({ exclusiveMinimum: 0, default: 0.001, description: 'added to the variance' }),
      center: Type.Boolean({ default: true, description: 'learn an offset (beta)' }),
      scale: Type.Boolean({ default: true, description: 'learn a scale (gamma)' }),
      beta_initializer: initializerRef('zeros', 'how beta starts'),
      gamma_initializer: initializerRef('ones', 'how gamma starts'),
      beta_regularizer: regularizerRef('penalty on beta'),
      gamma_regularizer: regularizerRef('penalty on gamma'),
    },
    { title: 'layer_norm arguments' },
  ),
  build: (a, c) =>
    c.tf.layers.layerNormalization({
      name: c.name,
      trainable: c.trainable,
      axis: a.axis,
      epsilon: a.epsilon,
      center: a.center,
      scale: a.scale,
      betaInitializer: c.initializer(a.beta_initializer, 'beta'),
      gammaInitializer: c.initializer(a.gamma_initializer, 'gamma'),
      betaRegularizer: c.regularizer(a.beta_regularizer),
      gammaRegularizer: c.regularizer(a.gamma_regularizer),
    }),
});

const rateArgs = (title: string, description: string) => args({ rate: Rate({ description }) }, { title });

export const dropout = defineLayer({
  type: 'dropout',
  keras: 'Dropout',
  family: 'regularization',
  summary: 'Sets a random fraction of the inputs to zero while training.',
  args: rateArgs('dropout arguments', 'fraction of inputs to drop, in [0, 1)'),
  build: (a, c) => new (randomLayers(c.tf).Dropout)({ name: c.name, rate: a.rate, seed: c.seed('dropout') }),
});

export const spatialDropout2d = defineLayer({
  type: 'spatial_dropout2d',
  keras: 'SpatialDropout2D',
  family: 'regularization',
  summary: 'Drops whole channels (feature maps) at random while training.',
  args: rateArgs('spatial_dropout2d arguments', 'fraction of channels to drop, in [0, 1)'),
  checkInput: (shapes) => requireRank(shapes, 4, 'spatial_dropout2d', 'it drops channels of images; use `dropout` on vectors'),
  // tfjs has no SpatialDropout2D: a dropout whose mask is shared over height and width is the same thing.
  build: (a, c) => {
    const shape = c.inputShapes[0] ?? [];
    const channels = shape[shape.length - 1];
    if (typeof channels !== 'number') throw new Error(`spatial_dropout2d needs a known channel count, got ${formatShape(shape)}`);
    // One draw per channel, shared over height and width; null takes the batch size.
    return new (randomLayers(c.tf).Dropout)({ name: c.name, rate: a.rate, seed: c.seed('dropout'), noiseShape: [null, 1, 1, channels] });
  },
});

export const gaussianNoise = defineLayer({
  type: 'gaussian_noise',
  keras: 'GaussianNoise',
  family: 'regularization',
  summary: 'Adds zero-mean Gaussian noise while training.',
  args: args({ stddev: Type.Number({ minimum: 0, description: 'standard deviation of the noise' }) }, { title: 'gaussian_noise arguments' }),
  build: (a, c) => new (randomLayers(c.tf).GaussianNoise)({ name: c.name, stddev: a.stddev, seed: c.seed('noise') }),
});

export const gaussianDropout = defineLayer({
  type: 'gaussian_dropout',
  keras: 'GaussianDropout',
  family: 'regularization',
  summary: 'Multiplies the inputs by 1-centred Gaussian noise while training.',
  args: rateArgs('gaussian_dropout arguments', 'drop probability, as in dropout'),
  build: (a, c) => new (randomLayers(c.tf).GaussianDropout)({ name: c.name, rate: a.rate, seed: c.seed('noise') }),
});

export const alphaDropout = defineLayer({
  type: 'alpha_dropout',
  keras: 'AlphaDropout',
  family: 'regularization',
  summary: 'Dropout that keeps the mean and variance of its inputs (for selu networks).',
  args: rateArgs('alpha_dropout arguments', 'drop probability, as in dropout'),
  build: (a, c) => new (randomLayers(c.tf).AlphaDropout)({ name: c.name, rate: a.rate, seed: c.seed('dropout') }),
});

export const normalizationLayers: LayerDefinition[] = [
  batchNorm,
  layerNorm,
  dropout,
  spatialDropout2d,
  gaussianNoise,
  gaussianDropout,
  alphaDropout,
];
