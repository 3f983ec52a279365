import { Type } from '@sinclair/typebox';
import { defineLayer, requireRank, type LayerDefinition } from '../layer-definition.js';
import { args, choice, intOrPair } from '../schema-helpers.js';

export const flatten = defineLayer({
  type: 'flatten',
  keras: 'Flatten',
  family: 'shape',
  summary: 'Turns each example into a vector.',
  args: args({}, { title: 'flatten arguments' }),
  build: (_a, c) => c.tf.layers.flatten({ name: c.name }),
});

export const reshape = defineLayer({
  type: 'reshape',
  keras: 'Reshape',
  family: 'shape',
  summary: 'Gives each example a new shape with the same number of values.',
  args: args(
    {
      target_shape: Type.Array(Type.Integer({ minimum: -1 }), {
        minItems: 1,
        description: 'the new shape without the batch dimension; one entry may be -1',
      }),
    },
    { title: 'reshape arguments' },
  ),
  checkInput: (shapes, a) => {
    const target = resolveTarget(shapes[0] ?? [], a.target_shape);
    return typeof target === 'string' ? target : undefined;
  },
  // tfjs leaves a -1 unknown at graph-build time, which breaks the layers after it; resolve it here.
  build: (a, c) => c.tf.layers.reshape({ name: c.name, targetShape: resolveTarget(c.inputShapes[0] ?? [], a.target_shape) as number[] }),
});

/** The target shape with its -1 filled in from the input size, or what is wrong with it. */
function resolveTarget(input: readonly (number | null)[], target: readonly number[]): number[] | string {
  const size = input.slice(1).reduce<number>((p, d) => p * (d ?? Number.NaN), 1);
  const known = target.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  const unknown = target.filter((d) => d === -1).length;
  if (target.some((d) => d === 0 || d < -1)) return 'reshape: every size must be positive (or one -1)';
  if (unknown > 1) return 'reshape: only one size may be -1';
  if (Number.isNaN(size)) return target.slice();
  if (unknown === 0 && known !== size) return `reshape: the input has ${size} values per example but [${target.join(', ')}] holds ${known}`;
  if (unknown === 1 && size % known !== 0) return `reshape: ${size} values per example do not divide into [${target.join(', ')}]`;
  return target.map((d) => (d === -1 ? size / known : d));
}

/** 1, [1, 2] or [[top, bottom], [left, right]], as Keras takes for padding and cropping. */
const amounts = (description: string, defaultValue?: number) =>
  Type.Unsafe<number | [number, number] | [[number, number], [number, number]]>({
    type: ['integer', 'array'],
    minimum: 0,
    items: { type: ['integer', 'array'], minimum: 0, items: { type: 'integer', minimum: 0 }, minItems: 2, maxItems: 2 },
    minItems: 2,
    maxItems: 2,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
    description,
    'x-expected': 'an integer, [height, width], or [[top, bottom], [left, right]]',
  });

type Amounts = number | [number, number] | [[number, number], [number, number]];
function toPairs(value: Amounts): [[number, number], [number, number]] {
  if (typeof value === 'number') return [[value, value], [value, value]];
  const [h, w] = value;
  if (typeof h === 'number' && typeof w === 'number') return [[h, h], [w, w]];
  return value as [[number, number], [number, number]];
}

export const zeroPadding2d = defineLayer({
  type: 'zero_padding2d',
  keras: 'ZeroPadding2D',
  family: 'shape',
  summary: 'Adds rows and columns of zeros around each image.',
  args: args({ padding: amounts('how much to add on each side', 1) }, { title: 'zero_padding2d arguments' }),
  checkInput: (shapes) => requireRank(shapes, 4, 'zero_padding2d', 'it pads images'),
  build: (a, c) => c.tf.layers.zeroPadding2d({ name: c.name, padding: toPairs(a.padding) }),
});

export const cropping2d = defineLayer({
  type: 'cropping2d',
  keras: 'Cropping2D',
  family: 'shape',
  summary: 'Removes rows and columns at the borders of each image.',
  args: args({ cropping: amounts('how much to remove on each side') }, { title: 'cropping2d arguments' }),
  checkInput: (shapes) => requireRank(shapes, 4, 'cropping2d', 'it crops images'),
  build: (a, c) => c.tf.layers.cropping2D({ name: c.name, cropping: toPairs(a.cropping) }),
});

export const upsampling2d = defineLayer({
  type: 'upsampling2d',
  keras: 'UpSampling2D',
  family: 'shape',
  summary: 'Repeats rows and columns (nearest) or interpolates (bilinear).',
  args: args(
    {
      size: intOrPair({ default: 2, description: 'the factor: an integer or [height, width]' }),
      interpolation: choice(['nearest', 'bilinear'], { default: 'nearest' }),
    },
    { title: 'upsampling2d arguments' },
  ),
  checkInput: (shapes) => requireRank(shapes, 4, 'upsampling2d', 'it resizes images'),
  build: (a, c) =>
    c.tf.layers.upSampling2d({
      name: c.name,
      size: typeof a.size === 'number' ? [a.size, a.size] : a.size,
      interpolation: a.interpolation,
    }),
});

export const rescaling = defineLayer({
  type: 'rescaling',
  keras: 'Rescaling',
  family: 'shape',
  summary: 'Multiplies by `scale` and adds `offset` (for example 1/255 to bring pixels to [0, 1]).',
  args: args(
    {
      scale: Type.Number({ description: 'the factor' }),
      offset: Type.Number({ default: 0, description: 'added after scaling' }),
    },
    { title: 'rescaling arguments' },
  ),
  build: (a, c) => c.tf.layers.rescaling({ name: c.name, scale: a.scale, offset: a.offset }),
});

export const shapeLayers: LayerDefinition[] = [flatten, reshape, zeroPadding2d, cropping2d, upsampling2d, rescaling];
