import { Type } from '@sinclair/typebox';
import { defineLayer, pair, requireRank, type LayerBuildContext, type LayerDefinition } from '../layer-definition.js';
import {
  activationRef,
  args,
  initializerRef,
  intOrPair,
  Padding,
  PositiveInt,
  regularizerRef,
  type RegularizerSpec,
} from '../schema-helpers.js';

const needsImage = 'convolutions work on images: put them before `flatten` or global pooling';

const common = {
  strides: intOrPair({ default: 1, description: 'step of the kernel: an integer or [height, width]' }),
  padding: Padding(),
  dilation_rate: intOrPair({ default: 1, description: 'spacing between kernel taps (atrous convolution)' }),
  activation: activationRef(),
  use_bias: Type.Boolean({ default: true, description: 'add a learned bias per output channel' }),
  bias_initializer: initializerRef('zeros', 'how the bias starts'),
  bias_regularizer: regularizerRef('penalty on the bias, e.g. {l2: 1e-4}'),
};

/** The arguments every convolution and `dense` share (dense has no strides or padding). */
interface SharedArgs {
  activation: string;
  use_bias: boolean;
  bias_initializer: Parameters<LayerBuildContext['initializer']>[0];
  bias_regularizer?: RegularizerSpec | null;
}

/** The tfjs options built the same way for every layer in this file. */
function sharedOptions(a: SharedArgs, c: LayerBuildContext) {
  return {
    name: c.name,
    trainable: c.trainable,
    activation: c.activation(a.activation) as never,
    useBias: a.use_bias,
    biasInitializer: c.initializer(a.bias_initializer, 'bias'),
    biasRegularizer: c.regularizer(a.bias_regularizer),
  };
}

/** Stride, padding and (optionally) dilation in tfjs' spelling. */
function slidingOptions(a: { strides: number | [number, number]; padding: 'valid' | 'same'; dilation_rate?: number | [number, number] }) {
  return {
    strides: pair(a.strides),
    padding: a.padding,
    ...(a.dilation_rate === undefined ? {} : { dilationRate: pair(a.dilation_rate) }),
  };
}

export const conv2d = defineLayer({
  type: 'conv2d',
  keras: 'Conv2D',
  aliases: ['conv', 'convolution2d'],
  family: 'convolution',
  summary: '2D convolution over height and width.',
  args: args(
    {
      filters: PositiveInt({ description: 'number of output channels' }),
      kernel_size: intOrPair({ description: 'kernel size: an integer or [height, width]' }),
      ...common,
      kernel_initializer: initializerRef('glorot_uniform', 'how the kernel starts'),
      kernel_regularizer: regularizerRef('penalty on the kernel, e.g. {l2: 1e-4}'),
    },
    { title: 'conv2d arguments' },
  ),
  checkInput: (shapes) => requireRank(shapes, 4, 'conv2d', needsImage),
  build: (a, c) =>
    c.tf.layers.conv2d({
      ...sharedOptions(a, c),
      filters: a.filters,
      kernelSize: pair(a.kernel_size),
      ...slidingOptions(a),
      kernelInitializer: c.initializer(a.kernel_initializer, 'kernel'),
      kernelRegularizer: c.regularizer(a.kernel_regularizer),
    }),
});

export const depthwiseConv2d = defineLayer({
  type: 'depthwise_conv2d',
  keras: 'DepthwiseConv2D',
  family: 'convolution',
  summary: 'Depthwise 2D convolution: one kernel per input channel (times depth_multiplier).',
  args: args(
    {
      kernel_size: intOrPair({ description: 'kernel size: an integer or [height, width]' }),
      depth_multiplier: PositiveInt({ default: 1, description: 'output channels per input channel' }),
      ...common,
      depthwise_initializer: initializerRef('glorot_uniform', 'how the depthwise kernel starts'),
      depthwise_regularizer: regularizerRef('penalty on the depthwise kernel'),
    },
    { title: 'depthwise_conv2d arguments' },
  ),
  checkInput: (shapes) => requireRank(shapes, 4, 'depthwise_conv2d', needsImage),
  build: (a, c) =>
    c.tf.layers.depthwiseConv2d({
      ...sharedOptions(a, c),
      kernelSize: pair(a.kernel_size),
      depthMultiplier: a.depth_multiplier,
      ...slidingOptions(a),
      depthwiseInitializer: c.initializer(a.depthwise_initializer, 'depthwise'),
      depthwiseRegularizer: c.regularizer(a.depthwise_regularizer),
    }),
});

export const separableConv2d = defineLayer({
  type: 'separable_conv2d',
  keras: 'SeparableConv2D',
  family: 'convolution',
  summary: 'Depthwise convolution followed by a 1x1 pointwise convolution (as in Xception, MobileNet).',
  args: args(
    {
      filters: PositiveInt({ description: 'number of output channels' }),
      kernel_size: intOrPair({ description: 'kernel size: an integer or [height, width]' }),
      depth_multiplier: PositiveInt({ default: 1, description: 'depthwise output channels per input channel' }),
      ...common,
      depthwise_initializer: initializerRef('glorot_uniform', 'how the depthwise kernel starts'),
      pointwise_initializer: initializerRef('glorot_uniform', 'how the pointwise kernel starts'),
      depthwise_regularizer: regularizerRef('penalty on the depthwise kernel'),
      pointwise_regularizer: regularizerRef('penalty on the pointwise kernel'),
    },
    { title: 'separable_conv2d arguments' },
  ),
  checkInput: (shapes) => requireRank(shapes, 4, 'separable_conv2d', needsImage),
  build: (a, c) =>
    c.tf.layers.separableConv2d({
      ...sharedOptions(a, c),
      filters: a.filters,
      kernelSize: pair(a.kernel_size),
      depthMultiplier: a.depth_multiplier,
      ...slidingOptions(a),
      depthwiseInitializer: c.initializer(a.depthwise_initializer, 'depthwise'),
      pointwiseInitializer: c.initializer(a.pointwise_initializer, 'pointwise'),
      depthwiseRegularizer: c.regularizer(a.depthwise_regularizer),
      pointwiseRegularizer: c.regularizer(a.pointwise_regularizer),
    }),
});

export const conv2dTranspose = defineLayer({
  type: 'conv2d_transpose',
  keras: 'Conv2DTranspose',
  family: 'convolution',
  summary: 'Transposed 2D convolution (learned upsampling).',
  args: args(
    {
      filters: PositiveInt({ description: 'number of output channels' }),
      kernel_size: intOrPair({ description: 'kernel size: an integer or [height, width]' }),
      strides: common.strides,
      padding: common.padding,
      activation: common.activation,
      use_bias: common.use_bias,
      kernel_initializer: initializerRef('glorot_uniform', 'how the kernel starts'),
      bias_initializer: common.bias_initializer,
      kernel_regularizer: regularizerRef('penalty on the kernel'),
      bias_regularizer: common.bias_regularizer,
    },
    { title: 'conv2d_transpose arguments' },
  ),
  checkInput: (shapes) => requireRank(shapes, 4, 'conv2d_transpose', needsImage),
  build: (a, c) =>
    c.tf.layers.conv2dTranspose({
      ...sharedOptions(a, c),
      filters: a.filters,
      kernelSize: pair(a.kernel_size),
      ...slidingOptions(a),
      kernelInitializer: c.initializer(a.kernel_initializer, 'kernel'),
      kernelRegularizer: c.regularizer(a.kernel_regularizer),
    }),
});

export const dense = defineLayer({
  type: 'dense',
  keras: 'Dense',
  aliases: ['linear', 'fc', 'fully_connected'],
  family: 'dense',
  summary: 'Fully connected layer.',
  args: args(
    {
      units: PositiveInt({ description: 'number of outputs' }),
      activation: activationRef(),
      use_bias: Type.Boolean({ default: true, description: 'add a learned bias per output' }),
      kernel_initializer: initializerRef('glorot_uniform', 'how the weights start'),
      bias_initializer: initializerRef('zeros', 'how the bias starts'),
      kernel_regularizer: regularizerRef('penalty on the weights, e.g. {l2: 1e-4}'),
      bias_regularizer: regularizerRef('penalty on the bias'),
    },
    { title: 'dense arguments' },
  ),
  checkInput: (shapes) =>
    requireRank(shapes, 2, 'dense', 'add `flatten` (or `global_avg_pool2d`) before it to turn the image into a vector'),
  build: (a, c) =>
    c.tf.layers.dense({
      ...sharedOptions(a, c),
      units: a.units,
      kernelInitializer: c.initializer(a.kernel_initializer, 'kernel'),
      kernelRegularizer: c.regularizer(a.kernel_regularizer),
    }),
});

export const convolutionLayers: LayerDefinition[] = [conv2d, depthwiseConv2d, separableConv2d, conv2dTranspose, dense];
