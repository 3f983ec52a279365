import { Type, type TObject } from '@sinclair/typebox';
import type { ImageShape } from '../core/image.js';
import type { ArgsOf, ArgsSchema, Definition } from './registry.js';
import { args, PositiveInt } from './schema-helpers.js';

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

export type AugmentationStage = 'warp' | 'tone' | 'pixels' | 'batch';

/**
 * How one batch is mixed with a shuffled copy of itself (the `batch` stage: mixup, cutmix). The
 * mixing itself runs inside the recorded training step (data/mixing.ts); only these numbers are
 * drawn in JS, from the task's stream.
 */
export interface BatchMix {
  /** The weight of each image's own label; its partner's label gets 1 - lambda. */
  lambda: number;
  /** The partner's rectangle pasted into each image (cutmix); without it, whole images blend by lambda. */
  box?: { top: number; left: number; height: number; width: number };
}

/** An augmentation with its arguments bound. */
export interface Augmentation {
  /** `warp` and `tone` stages: draws this augmentation's part of the image's plan. */
  draw?(plan: ImagePlan, random: Random, shape: ImageShape): void;
  /** `pixels` stage: changes the image (height x width x channels values, 0-255) in place. */
  apply?(image: Float32Array, shape: ImageShape, random: Random): void;
  /** `batch` stage: this batch's mix (of images of `shape`, the models' input), or undefined when it does not mix this batch. */
  mix?(shape: ImageShape, random: Random): BatchMix | undefined;
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

export const crop = defineAugmentation({
  type: 'crop',
  summary:
    'Pad the image by `padding` pixels of zeros on every side and take a random size x size window of it (the CIFAR-style random crop). `size` is the image\'s own: the models\' input does not change; pair it with evaluation.tta `ten_crop` with resize: size + 2 x padding.',
  stage: 'pixels',
  args: args(
    {
      size: PositiveInt({ description: 'height and width of the window: data.image\'s (a mismatch is a config error)' }),
      padding: Type.Integer({ minimum: 0, default: 4, description: 'pixels of zeros added on every side before cropping' }),
    },
    { title: 'crop arguments' },
  ),
  build: (a) => {
    let scratch = new Float32Array(0);
    return {
      apply(image, { height, width, channels }, random) {
        const span = 2 * a.padding;
        // The window's top-left corner in the padded image, then as a shift of the image itself.
        const dy = Math.floor(random() * (height + span - a.size + 1)) - a.padding;
        const dx = Math.floor(random() * (width + span - a.size + 1)) - a.padding;
        if (dx === 0 && dy === 0) return;
        if (scratch.length < image.length) scratch = new Float32Array(image.length);
        scratch.fill(0, 0, image.length);
        for (let y = 0; y < height; y++) {
          const sy = y + dy;
          if (sy < 0 || sy >= height) continue;
          for (let x = 0; x < width; x++) {
            const sx = x + dx;
            if (sx < 0 || sx >= width) continue;
            for (let c = 0; c < channels; c++) scratch[(y * width + x) * channels + c] = image[(sy * width + sx) * channels + c]!;
          }
        }
        image.set(scratch.subarray(0, image.length));
      },
    };
  },
});

const alpha = (value: number) =>
  Type.Number({ exclusiveMinimum: 0, default: value, description: 'the mixing weight is drawn from Beta(alpha, alpha): small values mix little' });

/** A draw from Gamma(shape, 1) (Marsaglia and Tsang; boosted below shape 1). */
function gamma(shape: number, random: Random): number {
  if (shape < 1) return gamma(shape + 1, random) * Math.pow(Math.max(random(), 1e-300), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = Math.sqrt(-2 * Math.log(Math.max(random(), 1e-300))) * Math.cos(2 * Math.PI * random());
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/**
 * The weight of the image's own label: a Beta(alpha, alpha) draw, taken as max(l, 1 - l) so the
 * image stays the larger part (alpha -> 0 then gives 1: no mixing at all).
 */
export function mixWeight(alphaValue: number, random: Random): number {
  const a = gamma(alphaValue, random);
  const b = gamma(alphaValue, random);
  const l = a + b > 0 ? a / (a + b) : 1;
  return Math.max(l, 1 - l);
}

export const mixup = defineAugmentation({
  type: 'mixup',
  summary: 'Blend each training batch with a shuffled copy of itself, images and labels alike, by a Beta(alpha, alpha) weight (Zhang et al. 2018). Runs inside the training step.',
  stage: 'batch',
  args: args({ alpha: alpha(0.2), probability: Type.Number({ minimum: 0, maximum: 1, default: 1, description: 'chance of mixing a batch' }) }, { title: 'mixup arguments' }),
  build: (a) => ({
    mix(_shape, random) {
      if (random() >= a.probability) return undefined;
      return { lambda: mixWeight(a.alpha, random) };
    },
  }),
});

export const cutmix = defineAugmentation({
  type: 'cutmix',
  summary:
    'Paste a rectangle of a shuffled copy of the batch into each image, the labels mixed by the pasted area (Yun et al. 2019). Runs inside the training step; with mixup, the first listed that draws a batch mixes it.',
  stage: 'batch',
  args: args({ alpha: alpha(1), probability: Type.Number({ minimum: 0, maximum: 1, default: 0.5, description: 'chance of mixing a batch' }) }, { title: 'cutmix arguments' }),
  build: (a) => ({
    mix({ height, width }, random) {
      if (random() >= a.probability) return undefined;
      const lambda = mixWeight(a.alpha, random);
      const ratio = Math.sqrt(1 - lambda);
      const h = Math.round(height * ratio);
      const w = Math.round(width * ratio);
      const cy = Math.floor(random() * height);
      const cx = Math.floor(random() * width);
      const top = Math.max(0, Math.min(height - h, cy - (h >> 1)));
      const left = Math.max(0, Math.min(width - w, cx - (w >> 1)));
      // The labels follow the area actually pasted (the rectangle is rounded to whole pixels).
      return { lambda: 1 - (h * w) / (height * width), box: { top, left, height: h, width: w } };
    },
  }),
});

/** fer's augmentations. Within a stage, the order here is the order they draw in. */
export const augmentationDefinitions: AugmentationDefinition[] = [flipHorizontal, rotate, zoom, shift, brightness, contrast, randomErasing, crop, mixup, cutmix];
