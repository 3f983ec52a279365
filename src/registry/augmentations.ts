import { Type, type TObject } from '@sinclair/typebox';
import type { Definition } from './registry.js';
import { args } from './schema-helpers.js';

/**
 * Augmentations (`data.augment`), applied on the fly to training batches only, seeded per task and
 * epoch. The registry holds names, arguments and docs; data/augment.ts executes them. Geometric ones
 * (flip, shift, rotate, zoom) are combined into one affine warp per image.
 */
export interface AugmentationDefinition<A extends TObject = TObject> extends Definition {
  readonly args: A;
}

const probability = (value: number) => Type.Number({ minimum: 0, maximum: 1, default: value, description: 'chance of applying it to an image' });

export const augmentationDefinitions: AugmentationDefinition[] = [
  {
    type: 'flip_horizontal',
    summary: 'Mirror the image left-right (faces are roughly symmetric).',
    args: args({ probability: probability(0.5) }, { title: 'flip_horizontal arguments' }),
  },
  {
    type: 'shift',
    summary: 'Move the image by up to a fraction of its width and height.',
    args: args({ max: Type.Number({ minimum: 0, maximum: 0.5, default: 0.1, description: 'largest shift, as a fraction of the size' }) }, { title: 'shift arguments' }),
  },
  {
    type: 'rotate',
    summary: 'Rotate by a random angle up to max_degrees either way.',
    args: args({ max_degrees: Type.Number({ minimum: 0, maximum: 180, default: 10 }) }, { title: 'rotate arguments' }),
  },
  {
    type: 'zoom',
    summary: 'Scale by a random factor in [1 - max, 1 + max].',
    args: args({ max: Type.Number({ minimum: 0, maximum: 0.9, default: 0.1 }) }, { title: 'zoom arguments' }),
  },
  {
    type: 'brightness',
    summary: 'Add a random offset up to max_delta of the pixel range (255) either way.',
    args: args({ max_delta: Type.Number({ minimum: 0, maximum: 1, default: 0.1 }) }, { title: 'brightness arguments' }),
  },
  {
    type: 'contrast',
    summary: "Scale each image's deviation from its mean by a random factor in [1 - max, 1 + max].",
    args: args({ max: Type.Number({ minimum: 0, maximum: 0.9, default: 0.2 }) }, { title: 'contrast arguments' }),
  },
  {
    type: 'random_erasing',
    summary: 'Fill a random rectangle with noise (Zhong et al. 2017).',
    args: args(
      {
        probability: probability(0.5),
        min_area: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.02, description: 'smallest rectangle, as a fraction of the image' }),
        max_area: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.2, description: 'largest rectangle, as a fraction of the image' }),
        max_aspect: Type.Number({ minimum: 1, default: 3.3, description: 'rectangles are at most this elongated' }),
      },
      { title: 'random_erasing arguments' },
    ),
  },
];
