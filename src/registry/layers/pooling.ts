import { Type } from '@sinclair/typebox';
import { defineLayer, pair, requireRank, type LayerDefinition } from '../layer-definition.js';
import { args, intOrPair, Padding } from '../schema-helpers.js';

const poolArgs = (title: string) =>
  args(
    {
      pool_size: intOrPair({ default: 2, description: 'window size: an integer or [height, width]' }),
      strides: Type.Unsafe<number | [number, number] | null>({
        type: ['integer', 'array', 'null'],
        minimum: 1,
        items: { type: 'integer', minimum: 1 },
        minItems: 2,
        maxItems: 2,
        default: null,
        description: 'step of the window (default: the pool size)',
        'x-expected': 'an integer >= 1, a pair [height, width], or null for the pool size',
      }),
      padding: Padding(),
    },
    { title },
  );

const onImages = 'pooling works on images: put it before `flatten`';

/** Max and average pooling differ only in the tfjs layer they build. */
function windowPool(type: 'max_pool2d' | 'avg_pool2d', keras: string, aliases: readonly string[], summary: string, layer: 'maxPooling2d' | 'averagePooling2d') {
  return defineLayer({
    type,
    keras,
    aliases,
    family: 'pooling',
    summary,
    args: poolArgs(`${type} arguments`),
    checkInput: (shapes) => requireRank(shapes, 4, type, onImages),
    build: (a, c) =>
      c.tf.layers[layer]({
        name: c.name,
        poolSize: pair(a.pool_size),
        strides: pair(a.strides ?? a.pool_size),
        padding: a.padding,
      }),
  });
}

export const maxPool2d = windowPool('max_pool2d', 'MaxPooling2D', ['maxpool', 'maxpool2d', 'max_pooling2d', 'maxpooling'], 'Maximum over each window.', 'maxPooling2d');
export const avgPool2d = windowPool('avg_pool2d', 'AveragePooling2D', ['avgpool', 'avgpool2d', 'average_pooling2d', 'averagepooling2d'], 'Average over each window.', 'averagePooling2d');

export const globalAvgPool2d = defineLayer({
  type: 'global_avg_pool2d',
  keras: 'GlobalAveragePooling2D',
  aliases: ['global_average_pooling2d', 'gap'],
  family: 'pooling',
  summary: 'Average over height and width: one value per channel.',
  args: args({}, { title: 'global_avg_pool2d arguments' }),
  checkInput: (shapes) => requireRank(shapes, 4, 'global_avg_pool2d', onImages),
  build: (_a, c) => c.tf.layers.globalAveragePooling2d({ name: c.name }),
});

export const globalMaxPool2d = defineLayer({
  type: 'global_max_pool2d',
  keras: 'GlobalMaxPooling2D',
  aliases: ['global_max_pooling2d'],
  family: 'pooling',
  summary: 'Maximum over height and width: one value per channel.',
  args: args({}, { title: 'global_max_pool2d arguments' }),
  checkInput: (shapes) => requireRank(shapes, 4, 'global_max_pool2d', onImages),
  build: (_a, c) => c.tf.layers.globalMaxPooling2d({ name: c.name }),
});

export const poolingLayers: LayerDefinition[] = [maxPool2d, avgPool2d, globalAvgPool2d, globalMaxPool2d];
