import type { ItemSpec } from '../registry/schema-helpers.js';
import { DataError, imageSize, type ImageShape } from './dataset.js';
import type { Random } from './random.js';

/**
 * Augmentation of training batches, in place on raw pixel values (0-255 floats) before
 * preprocessing. Flips, shifts, rotations and zooms are folded into one affine warp per image
 * (bilinear sampling, edges repeated as Keras's `nearest` fill mode does); brightness, contrast and
 * random erasing follow. Plain JavaScript on the batch buffer, so it is identical on every backend
 * and its randomness comes only from the stream it is given (seeded per task and epoch).
 */
interface Settings {
  flip?: number;
  shift?: number;
  rotate?: number;
  zoom?: number;
  brightness?: number;
  contrast?: number;
  erasing?: { probability: number; minArea: number; maxArea: number; maxAspect: number };
}

export interface Augmenter {
  /** Augments `count` images of `shape` in `data`, drawing from `random`. */
  apply(data: Float32Array, count: number, shape: ImageShape, random: Random): void;
}

function argsOf(spec: ItemSpec): [string, Record<string, number>] {
  if (typeof spec === 'string') return [spec, {}];
  const [type, args] = Object.entries(spec)[0] ?? ['', {}];
  return [type, (args ?? {}) as Record<string, number>];
}

export function createAugmenter(specs: readonly ItemSpec[]): Augmenter | undefined {
  if (specs.length === 0) return undefined;
  const s: Settings = {};
  for (const spec of specs) {
    const [type, a] = argsOf(spec);
    switch (type) {
      case 'flip_horizontal':
        s.flip = a.probability ?? 0.5;
        break;
      case 'shift':
        s.shift = a.max ?? 0.1;
        break;
      case 'rotate':
        s.rotate = ((a.max_degrees ?? 10) * Math.PI) / 180;
        break;
      case 'zoom':
        s.zoom = a.max ?? 0.1;
        break;
      case 'brightness':
        s.brightness = (a.max_delta ?? 0.1) * 255;
        break;
      case 'contrast':
        s.contrast = a.max ?? 0.2;
        break;
      case 'random_erasing':
        s.erasing = {
          probability: a.probability ?? 0.5,
          minArea: a.min_area ?? 0.02,
          maxArea: a.max_area ?? 0.2,
          maxAspect: a.max_aspect ?? 3.3,
        };
        if (s.erasing.minArea > s.erasing.maxArea) throw new DataError('random_erasing: min_area is larger than max_area');
        break;
      default:
        throw new DataError(`unknown augmentation \`${type}\``);
    }
  }
  const geometric = s.shift !== undefined || s.rotate !== undefined || s.zoom !== undefined;
  let scratch = new Float32Array(0);
  return {
    apply(data, count, shape, random) {
      const size = imageSize(shape);
      if (scratch.length < size) scratch = new Float32Array(size);
      for (let n = 0; n < count; n++) {
        const image = data.subarray(n * size, (n + 1) * size);
        const flip = s.flip !== undefined && random() < s.flip;
        if (geometric) {
          const angle = s.rotate !== undefined ? (random() * 2 - 1) * s.rotate : 0;
          const zoom = s.zoom !== undefined ? 1 + (random() * 2 - 1) * s.zoom : 1;
          const tx = s.shift !== undefined ? (random() * 2 - 1) * s.shift * shape.width : 0;
          const ty = s.shift !== undefined ? (random() * 2 - 1) * s.shift * shape.height : 0;
          warp(image, scratch, shape, flip, angle, zoom, tx, ty);
          image.set(scratch.subarray(0, size));
        } else if (flip) {
          flipInPlace(image, shape);
        }
        if (s.brightness !== undefined || s.contrast !== undefined) {
          const delta = s.brightness !== undefined ? (random() * 2 - 1) * s.brightness : 0;
          const factor = s.contrast !== undefined ? 1 + (random() * 2 - 1) * s.contrast : 1;
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
        if (s.erasing && random() < s.erasing.probability) erase(image, shape, s.erasing, random);
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

/** out(p) = in(A^-1 (p - centre - t) + centre), A = rotation x zoom (x flip); bilinear, edges clamped. */
function warp(input: Float32Array, out: Float32Array, { height, width, channels }: ImageShape, flip: boolean, angle: number, zoom: number, tx: number, ty: number): void {
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const cos = Math.cos(angle) / zoom;
  const sin = Math.sin(angle) / zoom;
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

function erase(image: Float32Array, { height, width, channels }: ImageShape, e: NonNullable<Settings['erasing']>, random: Random): void {
  const area = (e.minArea + random() * (e.maxArea - e.minArea)) * height * width;
  const aspect = Math.exp((random() * 2 - 1) * Math.log(e.maxAspect));
  const h = Math.max(1, Math.min(height, Math.round(Math.sqrt(area * aspect))));
  const w = Math.max(1, Math.min(width, Math.round(Math.sqrt(area / aspect))));
  const top = Math.floor(random() * (height - h + 1));
  const left = Math.floor(random() * (width - w + 1));
  for (let y = top; y < top + h; y++) {
    for (let x = left; x < left + w; x++) {
      for (let c = 0; c < channels; c++) image[(y * width + x) * channels + c] = random() * 255;
    }
  }
}
