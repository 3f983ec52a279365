import { DataError } from '../core/data-error.js';
import { entryOf, type Item, type ItemSpec } from '../core/item-spec.js';
import { imageSize, type ImageShape } from '../core/image.js';
import { normalizeItem } from '../config/normalize.js';
import type { Augmentation, BatchMix, ImagePlan } from '../registry/augmentations.js';
import { builtinRegistry, type FerRegistry } from '../registry/index.js';
import type { Random } from './random.js';

/**
 * Runs the augmentations of data.augment on training batches, in place on raw pixel values (0-255
 * floats) before preprocessing. Each augmentation is a registry entry (registry/augmentations.ts);
 * per image, the warp-stage entries draw one plan that becomes one affine warp (bilinear sampling,
 * edges repeated as Keras's `nearest` fill mode does), the tone-stage entries one change of
 * brightness and contrast, then the pixel-stage entries run in the order listed. Plain JavaScript
 * on the batch buffer, so it is identical on every backend and its randomness comes only from the
 * stream it is given (seeded per task and epoch).
 */
export interface Augmenter {
  /** Augments `count` images of `shape` in `data`, drawing from `random`. */
  apply(data: Float32Array, count: number, shape: ImageShape, random: Random): void;
  /**
   * With `batch`-stage entries (mixup, cutmix): how to mix the next batch of model inputs of
   * `shape` (the first entry, in the config's order, that draws it), or undefined for none.
   */
  mix?(shape: ImageShape, random: Random): BatchMix | undefined;
}

interface Bound {
  rank: number;
  augmentation: Augmentation;
}

/** The augmenter for a list of augmentations (as a config writes them); undefined for none. */
export function createAugmenter(specs: readonly (ItemSpec | Item)[], registry: FerRegistry = builtinRegistry()): Augmenter | undefined {
  if (specs.length === 0) return undefined;
  const order = registry.augmentations.types();
  const stages: Record<'warp' | 'tone' | 'pixels' | 'batch', Bound[]> = { warp: [], tone: [], pixels: [], batch: [] };
  for (const spec of specs) {
    let item: Item;
    try {
      item = normalizeItem(registry, 'augmentation', spec);
    } catch (error) {
      throw new DataError(`data.augment: ${(error as Error).message}`);
    }
    const { name, args } = entryOf(item);
    const definition = registry.augmentations.get(name)!;
    const augmentation = definition.build(args);
    const needs = definition.stage === 'pixels' ? 'apply' : definition.stage === 'batch' ? 'mix' : 'draw';
    if (typeof augmentation[needs] !== 'function') throw new DataError(`augmentation \`${name}\` (stage ${definition.stage}) has no \`${needs}\``);
    stages[definition.stage].push({ rank: order.indexOf(name), augmentation });
  }
  // Warp and tone draws follow the registry's order, whatever the order written (pixel ones keep it).
  const warps = stages.warp.sort((a, b) => a.rank - b.rank).map((b) => b.augmentation);
  const tones = stages.tone.sort((a, b) => a.rank - b.rank).map((b) => b.augmentation);
  const pixels = stages.pixels.map((b) => b.augmentation);
  const mixes = stages.batch.map((b) => b.augmentation);
  const plan: ImagePlan = { flip: false, angle: 0, zoom: 1, shiftX: 0, shiftY: 0, brightness: 0, contrast: 1 };
  let scratch = new Float32Array(0);
  return {
    ...(mixes.length > 0
      ? {
          mix(shape: ImageShape, random: Random): BatchMix | undefined {
            for (const m of mixes) {
              const drawn = m.mix!(shape, random);
              if (drawn) return drawn;
            }
            return undefined;
          },
        }
      : {}),
    apply(data, count, shape, random) {
      const size = imageSize(shape);
      if (scratch.length < size) scratch = new Float32Array(size);
      for (let n = 0; n < count; n++) {
        const image = data.subarray(n * size, (n + 1) * size);
        plan.flip = false;
        plan.angle = 0;
        plan.zoom = 1;
        plan.shiftX = 0;
        plan.shiftY = 0;
        plan.brightness = 0;
        plan.contrast = 1;
        for (const w of warps) w.draw!(plan, random, shape);
        if (plan.angle !== 0 || plan.zoom !== 1 || plan.shiftX !== 0 || plan.shiftY !== 0) {
          warp(image, scratch, shape, plan);
          image.set(scratch.subarray(0, size));
        } else if (plan.flip) {
          // A mirror alone moves whole pixels: no need to resample.
          flipInPlace(image, shape);
        }
        if (tones.length > 0) {
          for (const t of tones) t.draw!(plan, random, shape);
          tone(image, plan.brightness, plan.contrast);
        }
        for (const p of pixels) p.apply!(image, shape, random);
      }
    },
  };
}

function flipInPlace(image: Float32Array, { height, width, channels }: ImageShape): void {
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width >> 1; x++) {
      for (let c = 0; c < channels; c++) {
        const a = (y * width + x) * channels + c;
        const b = (y * width + (width - 1 - x)) * channels + c;
        const t = image[a]!;
        image[a] = image[b]!;
        image[b] = t;
      }
    }
  }
}

/** out(p) = in(A^-1 (p - centre - t) + centre), A = rotation x zoom (x mirror); bilinear, edges clamped. */
function warp(input: Float32Array, out: Float32Array, { height, width, channels }: ImageShape, plan: ImagePlan): void {
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const cos = Math.cos(plan.angle) / plan.zoom;
  const sin = Math.sin(plan.angle) / plan.zoom;
  const { flip, shiftX: tx, shiftY: ty } = plan;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = x - cx - tx;
      const dy = y - cy - ty;
      let sx = cos * dx + sin * dy;
      const sy = -sin * dx + cos * dy + cy;
      if (flip) sx = -sx;
      sx += cx;
      const fx = sx < 0 ? 0 : sx > width - 1 ? width - 1 : sx;
      const fy = sy < 0 ? 0 : sy > height - 1 ? height - 1 : sy;
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      const x1 = x0 + 1 < width ? x0 + 1 : x0;
      const y1 = y0 + 1 < height ? y0 + 1 : y0;
      const wx = fx - x0;
      const wy = fy - y0;
      for (let c = 0; c < channels; c++) {
        const a = input[(y0 * width + x0) * channels + c]!;
        const b = input[(y0 * width + x1) * channels + c]!;
        const d = input[(y1 * width + x0) * channels + c]!;
        const e = input[(y1 * width + x1) * channels + c]!;
        out[(y * width + x) * channels + c] = (a * (1 - wx) + b * wx) * (1 - wy) + (d * (1 - wx) + e * wx) * wy;
      }
    }
  }
}

/** v -> (v - mean) * contrast + mean + brightness, clipped to 0-255 once for both. */
function tone(image: Float32Array, delta: number, factor: number): void {
  const size = image.length;
  let mean = 0;
  if (factor !== 1) {
    for (let i = 0; i < size; i++) mean += image[i]!;
    mean /= size;
  }
  for (let i = 0; i < size; i++) {
    const v = (image[i]! - mean) * factor + mean + delta;
    image[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
}
