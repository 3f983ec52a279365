import { Type, type TObject } from '@sinclair/typebox';
import type { ImageShape } from '../core/image.js';
import type { ArgsOf, ArgsSchema, Definition } from './registry.js';
import { args } from './schema-helpers.js';

/**
 * Augmentations (`data.augment`): random changes to training images, drawn afresh every epoch from
 * one stream seeded per task and epoch, on raw pixel values (0-255) before preprocessing. Each
 * entry is its own behaviour; data/augment.ts runs them per image in three stages:
 *
 * - `warp`: the entry draws its part of the image's plan (mirror, rotation, zoom, shift) and the
 *   image gets one affine warp for all of them, so bilinear sampling blurs it once, not once per
 *   augmentation;
 * - `tone`: likewise one change of brightness and contrast, clipped to 0-255 once;
 * - `pixels`: the entry changes the pixels itself (random erasing, and most plugin augmentations).
 *
 * Within the warp and tone stages entries draw in the order they are registered (the plan they make
 * does not depend on the order a config lists them); pixel entries run in the config's order,
 * after both. The draw order is part of a run's identity: it is what makes a resumed run see the
 * same images as an uninterrupted one.
 */

/** A uniform draw in [0, 1) from the stream of the task and epoch. */
export type Random = () => number;

/** What the warp and tone stages do to one image; neutral (all zero, zoom and contrast 1) until drawn. */
export interface ImagePlan {
  /** Mirror left-right. */
  flip: boolean;
  /** Rotation about the centre, in radians. */
  angle: number;
  /** Scale about the centre (above 1 enlarges). */
  zoom: number;
  /** Shift in pixels (right, down). */
  shiftX: number;
  shiftY: number;
  /** Added to every value (0-255 scale). */
  brightness: number;
  /** Each value's deviation from the image mean is multiplied by this. */
  contrast: number;
}

export type AugmentationStage = 'warp' | 'tone' | 'pixels';

/** An augmentation with its arguments bound. */
export interface Augmentation {
  /** `warp` and `tone` stages: draws this augmentation's part of the image's plan. */
  draw?(plan: ImagePlan, random: Random, shape: ImageShape): void;
  /** `pixels` stage: changes the image (height x width x channels values, 0-255) in place. */
  apply?(image: Float32Array, shape: ImageShape, random: Random): void;
}

export interface AugmentationDefinition<A extends ArgsSchema = ArgsSchema> extends Definition {
  readonly args: A;
  readonly stage: AugmentationStage;
  /** A problem with the arguments the schema cannot express; reported at the entry's line in the config. */
  check?(args: ArgsOf<A>): string | undefined;
  build(args: ArgsOf<A>): Augmentation;
}

/** Keeps the argument type of the behaviour tied to the schema at the definition site. */
export function defineAugmentation<A extends TObject>(definition: AugmentationDefinition<A>): AugmentationDefinition<A> {
  return definition;
}

const probability = (value: number) => Type.Number({ minimum: 0, maximum: 1, default: value, description: 'chance of applying it to an image' });

/** A draw in [-1, 1). */
const signed = (random: Random) => random() * 2 - 1;

export const flipHorizontal = defineAugmentation({
  type: 'flip_horizontal',
  summary: 'Mirror the image left-right (faces are roughly symmetric).',
  stage: 'warp',
  args: args({ probability: probability(0.5) }, { title: 'flip_horizontal arguments' }),
  build: (a) => ({
    draw(plan, random) {
      plan.flip = random() < a.probability;
    },
  }),
});

export const rotate = defineAugmentation({
  type: 'rotate',
  summary: 'Rotate by a random angle up to max_degrees either way.',
  stage: 'warp',
  args: args({ max_degrees: Type.Number({ minimum: 0, maximum: 180, default: 10 }) }, { title: 'rotate arguments' }),
  build: (a) => {
    const max = (a.max_degrees * Math.PI) / 180;
    return {
      draw(plan, random) {
        plan.angle = signed(random) * max;
      },
    };
  },
});

export const zoom = defineAugmentation({
  type: 'zoom',
  summary: 'Scale by a random factor in [1 - max, 1 + max].',
  stage: 'warp',
  args: args({ max: Type.Number({ minimum: 0, maximum: 0.9, default: 0.1 }) }, { title: 'zoom arguments' }),
  build: (a) => ({
    draw(plan, random) {
      plan.zoom = 1 + signed(random) * a.max;
    },
  }),
});

export const shift = defineAugmentation({
  type: 'shift',
  summary: 'Move the image by up to a fraction of its width and height.',
  stage: 'warp',
  args: args({ max: Type.Number({ minimum: 0, maximum: 0.5, default: 0.1, description: 'largest shift, as a fraction of the size' }) }, { title: 'shift arguments' }),
  build: (a) => ({
    draw(plan, random, shape) {
      plan.shiftX = signed(random) * a.max * shape.width;
      plan.shiftY = signed(random) * a.max * shape.height;
    },
  }),
});

export const brightness = defineAugmentation({
  type: 'brightness',
  summary: 'Add a random offset up to max_delta of the pixel range (255) either way.',
  stage: 'tone',
  args: args({ max_delta: Type.Number({ minimum: 0, maximum: 1, default: 0.1 }) }, { title: 'brightness arguments' }),
  build: (a) => {
    const max = a.max_delta * 255;
    return {
      draw(plan, random) {
        plan.brightness = signed(random) * max;
      },
    };
  },
});

export const contrast = defineAugmentation({
  type: 'contrast',
  summary: "Scale each image's deviation from its mean by a random factor in [1 - max, 1 + max].",
  stage: 'tone',
  args: args({ max: Type.Number({ minimum: 0, maximum: 0.9, default: 0.2 }) }, { title: 'contrast arguments' }),
  build: (a) => ({
    draw(plan, random) {
      plan.contrast = 1 + signed(random) * a.max;
    },
  }),
});

export const randomErasing = defineAugmentation({
  type: 'random_erasing',
  summary: 'Fill a random rectangle with noise (Zhong et al. 2017).',
  stage: 'pixels',
  args: args(
    {
      probability: probability(0.5),
      min_area: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.02, description: 'smallest rectangle, as a fraction of the image' }),
      max_area: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.2, description: 'largest rectangle, as a fraction of the image' }),
      max_aspect: Type.Number({ minimum: 1, default: 3.3, description: 'rectangles are at most this elongated' }),
    },
    { title: 'random_erasing arguments' },
  ),
  check: (a) => (a.min_area > a.max_area ? `min_area (${a.min_area}) is larger than max_area (${a.max_area})` : undefined),
  build: (a) => ({
    apply(image, { height, width, channels }, random) {
      if (random() >= a.probability) return;
      const area = (a.min_area + random() * (a.max_area - a.min_area)) * height * width;
      const aspect = Math.exp(signed(random) * Math.log(a.max_aspect));
      const h = Math.max(1, Math.min(height, Math.round(Math.sqrt(area * aspect))));
      const w = Math.max(1, Math.min(width, Math.round(Math.sqrt(area / aspect))));
      const top = Math.floor(random() * (height - h + 1));
      const left = Math.floor(random() * (width - w + 1));
      for (let y = top; y < top + h; y++) {
        for (let x = left; x < left + w; x++) {
          for (let c = 0; c < channels; c++) image[(y * width + x) * channels + c] = random() * 255;
        }
      }
    },
  }),
});

/** fer's augmentations. Within a stage, the order here is the order they draw in. */
export const augmentationDefinitions: AugmentationDefinition[] = [flipHorizontal, rotate, zoom, shift, brightness, contrast, randomErasing];
