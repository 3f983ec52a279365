import type { ItemSpec } from '../registry/schema-helpers.js';
import { DataError, imageSize, type Dataset, type ImageShape } from './dataset.js';

/**
 * Preprocessing: the steps of data.preprocess, in order, turning raw pixel values (0-255, as
 * floats, after any augmentation) into model inputs. Statistics (subtract_mean) are fitted on a
 * fold's training rows only, never its validation rows, by running the steps before them over
 * those rows. The fitted steps are plain data (`steps`), saved with a model so prediction applies
 * exactly the same transformation.
 */
export type FittedStep =
  | { type: 'scale'; factor: number }
  | { type: 'subtract_mean'; per: 'dataset'; mean: number }
  | { type: 'subtract_mean'; per: 'pixel'; mean: number[] }
  | { type: 'standardize'; epsilon: number }
  | { type: 'resize'; height: number; width: number }
  | { type: 'to_rgb' };

export interface Preprocessor {
  readonly steps: readonly FittedStep[];
  readonly inputShape: ImageShape;
  readonly outputShape: ImageShape;
  /** Transforms `count` images (raw values, inputShape each) into a new array of model inputs. */
  apply(images: Float32Array, count: number): Float32Array;
}

function stepOf(spec: ItemSpec): [string, Record<string, unknown>] {
  if (typeof spec === 'string') return [spec, {}];
  const [type, args] = Object.entries(spec)[0] ?? ['', {}];
  return [type, (args ?? {}) as Record<string, unknown>];
}

function applyStep(step: FittedStep, data: Float32Array, count: number, shape: ImageShape): { data: Float32Array; shape: ImageShape } {
  const size = imageSize(shape);
  switch (step.type) {
    case 'scale':
      for (let i = 0; i < count * size; i++) data[i]! *= step.factor;
      return { data, shape };
    case 'subtract_mean':
      if (step.per === 'dataset') {
        for (let i = 0; i < count * size; i++) data[i]! -= step.mean;
      } else {
        for (let n = 0; n < count; n++) for (let i = 0; i < size; i++) data[n * size + i]! -= step.mean[i]!;
      }
      return { data, shape };
    case 'standardize':
      for (let n = 0; n < count; n++) {
        let sum = 0;
        let squares = 0;
        for (let i = 0; i < size; i++) {
          const v = data[n * size + i]!;
          sum += v;
          squares += v * v;
        }
        const mean = sum / size;
        const std = Math.sqrt(Math.max(0, squares / size - mean * mean));
        const scale = 1 / Math.max(std, step.epsilon);
        for (let i = 0; i < size; i++) data[n * size + i] = (data[n * size + i]! - mean) * scale;
      }
      return { data, shape };
    case 'resize':
      return { data: resizeBilinear(data, count, shape, step.height, step.width), shape: { ...shape, height: step.height, width: step.width } };
    case 'to_rgb': {
      const out = new Float32Array(count * size * 3);
      for (let i = 0; i < count * size; i++) {
        const v = data[i]!;
        out[i * 3] = v;
        out[i * 3 + 1] = v;
        out[i * 3 + 2] = v;
      }
      return { data: out, shape: { ...shape, channels: 3 } };
    }
  }
}

/** Bilinear resize with half-pixel centres (TensorFlow 2's default). */
export function resizeBilinear(data: Float32Array, count: number, shape: ImageShape, height: number, width: number): Float32Array {
  const { height: h, width: w, channels: c } = shape;
  const out = new Float32Array(count * height * width * c);
  const sy = h / height;
  const sx = w / width;
  for (let n = 0; n < count; n++) {
    const inBase = n * h * w * c;
    const outBase = n * height * width * c;
    for (let y = 0; y < height; y++) {
      const fy = Math.min(h - 1, Math.max(0, (y + 0.5) * sy - 0.5));
      const y0 = Math.floor(fy);
      const y1 = Math.min(h - 1, y0 + 1);
      const dy = fy - y0;
      for (let x = 0; x < width; x++) {
        const fx = Math.min(w - 1, Math.max(0, (x + 0.5) * sx - 0.5));
        const x0 = Math.floor(fx);
        const x1 = Math.min(w - 1, x0 + 1);
        const dx = fx - x0;
        for (let k = 0; k < c; k++) {
          const a = data[inBase + (y0 * w + x0) * c + k]!;
          const b = data[inBase + (y0 * w + x1) * c + k]!;
          const d = data[inBase + (y1 * w + x0) * c + k]!;
          const e = data[inBase + (y1 * w + x1) * c + k]!;
          out[outBase + (y * width + x) * c + k] = (a * (1 - dx) + b * dx) * (1 - dy) + (d * (1 - dx) + e * dx) * dy;
        }
      }
    }
  }
  return out;
}

/** Converts rows' stored bytes to floats (raw 0-255 values). */
export function gatherRows(dataset: Dataset, rows: ArrayLike<number>, out?: Float32Array): Float32Array {
  const size = imageSize(dataset.image);
  const target = out ?? new Float32Array(rows.length * size);
  for (let r = 0; r < rows.length; r++) {
    const start = rows[r]! * size;
    const source = dataset.pixels.subarray(start, start + size);
    target.set(source, r * size);
  }
  return target;
}

export function preprocessorFromSteps(steps: readonly FittedStep[], inputShape: ImageShape): Preprocessor {
  let outputShape = inputShape;
  for (const step of steps) {
    if (step.type === 'resize') outputShape = { ...outputShape, height: step.height, width: step.width };
    if (step.type === 'to_rgb') outputShape = { ...outputShape, channels: 3 };
  }
  return {
    steps,
    inputShape,
    outputShape,
    apply(images, count) {
      let data = images;
      let shape = inputShape;
      for (const step of steps) ({ data, shape } = applyStep(step, data, count, shape));
      return data;
    },
  };
}

/** Fits the configured steps on `trainRows` (the training rows of one fold). */
export function fitPreprocessor(specs: readonly ItemSpec[], dataset: Dataset, trainRows: Int32Array): Preprocessor {
  const fitted: FittedStep[] = [];
  let shape = dataset.image;
  for (const spec of specs) {
    const [type, args] = stepOf(spec);
    switch (type) {
      case 'scale':
        fitted.push({ type: 'scale', factor: (args.factor as number | undefined) ?? 1 / 255 });
        break;
      case 'standardize':
        fitted.push({ type: 'standardize', epsilon: (args.epsilon as number | undefined) ?? 1e-6 });
        break;
      case 'resize':
        fitted.push({ type: 'resize', height: args.height as number, width: args.width as number });
        shape = { ...shape, height: args.height as number, width: args.width as number };
        break;
      case 'to_rgb':
        if (shape.channels !== 1) throw new DataError('data.preprocess: `to_rgb` needs 1-channel images, and these have 3');
        fitted.push({ type: 'to_rgb' });
        shape = { ...shape, channels: 3 };
        break;
      case 'subtract_mean': {
        const per = (args.per as 'dataset' | 'pixel' | undefined) ?? 'dataset';
        const mean = meanAfter(fitted, dataset, trainRows, per);
        fitted.push(per === 'dataset' ? { type: 'subtract_mean', per, mean: mean[0]! } : { type: 'subtract_mean', per, mean });
        break;
      }
      default:
        throw new DataError(`unknown preprocessing step \`${type}\``);
    }
  }
  return preprocessorFromSteps(fitted, dataset.image);
}

/** The mean of the training rows after `steps`, over everything or per value position; in chunks to bound memory. */
function meanAfter(steps: readonly FittedStep[], dataset: Dataset, rows: Int32Array, per: 'dataset' | 'pixel'): number[] {
  if (rows.length === 0) throw new DataError('subtract_mean: the fold has no training rows to compute a mean from');
  const partial = preprocessorFromSteps(steps, dataset.image);
  const size = imageSize(partial.outputShape);
  const sums = new Float64Array(per === 'dataset' ? 1 : size);
  const chunk = 1024;
  for (let start = 0; start < rows.length; start += chunk) {
    const part = rows.subarray(start, Math.min(rows.length, start + chunk));
    const values = partial.apply(gatherRows(dataset, part), part.length);
    if (per === 'dataset') {
      let s = 0;
      for (let i = 0; i < values.length; i++) s += values[i]!;
      sums[0]! += s;
    } else {
      for (let n = 0; n < part.length; n++) for (let i = 0; i < size; i++) sums[i]! += values[n * size + i]!;
    }
  }
  const count = per === 'dataset' ? rows.length * size : rows.length;
  return Array.from(sums, (s) => s / count);
}
