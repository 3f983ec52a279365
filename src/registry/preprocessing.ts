import { Type, type TObject } from '@sinclair/typebox';
import { DataError } from '../core/data-error.js';
import { imageSize, type ImageShape } from '../core/image.js';
import type { ArgsOf, ArgsSchema, Definition } from './registry.js';
import { args, choice, PositiveInt } from './schema-helpers.js';

/**
 * Preprocessing steps (`data.preprocess`), applied in order to every image of every split, turning
 * raw pixel values (0-255, after any augmentation) into model inputs. A step that needs statistics
 * (subtract_mean) fits them on a fold's training rows only, never its validation rows. A fitted
 * step is plain data, `{type, ...arguments, ...statistics}`, saved with each model (preprocess.json)
 * so prediction applies exactly the same transformation; data/preprocess.ts runs the steps.
 */

/** What fitting sees: the fold's training rows as this step will receive them (after the steps before it). */
export interface FitContext {
  /** The step's input shape. */
  readonly shape: ImageShape;
  /** How many training rows there are. */
  readonly rows: number;
  /** The rows in chunks (bounded memory): `values` holds `count` images of `shape`. */
  chunks(): Iterable<{ values: Float32Array; count: number }>;
}

export interface PreprocessingDefinition<A extends ArgsSchema = ArgsSchema, S extends object = object> extends Definition {
  readonly args: A;
  /** The shape of what the step hands on (default: its input's); the models' input shape derives from it. */
  outputShape?(args: ArgsOf<A>, input: ImageShape): ImageShape;
  /** What is wrong with applying the step to images of this shape, if anything. */
  checkInput?(args: ArgsOf<A>, input: ImageShape): string | undefined;
  /** Statistics of the training rows, saved with the step. */
  fit?(args: ArgsOf<A>, context: FitContext): S;
  /** Transforms `count` images of `shape`: in place when it can, returning the values. */
  apply(step: ArgsOf<A> & S, data: Float32Array, count: number, shape: ImageShape): Float32Array;
}

/** Keeps the argument type of the behaviour tied to the schema at the definition site. */
export function definePreprocessing<A extends TObject, S extends object = object>(definition: PreprocessingDefinition<A, S>): PreprocessingDefinition<A, S> {
  return definition;
}

export const scale = definePreprocessing({
  type: 'scale',
  summary: 'Multiply pixel values by `factor` (1/255 brings 0-255 to 0-1).',
  args: args({ factor: Type.Number({ default: 1 / 255, description: 'the multiplier' }) }, { title: 'scale arguments' }),
  apply: (step, data, count, shape) => {
    for (let i = 0; i < count * imageSize(shape); i++) data[i]! *= step.factor;
    return data;
  },
});

export const subtractMean = definePreprocessing({
  type: 'subtract_mean',
  summary:
    "Subtract the mean of the training fold's rows (computed on that fold's training rows only, never its validation rows): one value over all pixels (`per: dataset`, the reference study) or one per pixel position (`per: pixel`).",
  args: args({ per: choice(['dataset', 'pixel'], { default: 'dataset' }) }, { title: 'subtract_mean arguments' }),
  fit: (a, context): { mean: number | number[] } => {
    if (context.rows === 0) throw new DataError('subtract_mean: the fold has no training rows to compute a mean from');
    const size = imageSize(context.shape);
    const sums = new Float64Array(a.per === 'dataset' ? 1 : size);
    for (const { values, count } of context.chunks()) {
      if (a.per === 'dataset') {
        let s = 0;
        for (let i = 0; i < values.length; i++) s += values[i]!;
        sums[0]! += s;
      } else {
        for (let n = 0; n < count; n++) for (let i = 0; i < size; i++) sums[i]! += values[n * size + i]!;
      }
    }
    const total = a.per === 'dataset' ? context.rows * size : context.rows;
    const mean = Array.from(sums, (s) => s / total);
    return { mean: a.per === 'dataset' ? mean[0]! : mean };
  },
  apply: (step, data, count, shape) => {
    const size = imageSize(shape);
    const mean = step.mean;
    if (typeof mean === 'number') {
      for (let i = 0; i < count * size; i++) data[i]! -= mean;
    } else {
      for (let n = 0; n < count; n++) for (let i = 0; i < size; i++) data[n * size + i]! -= mean[i]!;
    }
    return data;
  },
});

export const standardize = definePreprocessing({
  type: 'standardize',
  summary: 'Per-image standardisation: subtract the image mean and divide by its standard deviation.',
  args: args({ epsilon: Type.Number({ exclusiveMinimum: 0, default: 1e-6 }) }, { title: 'standardize arguments' }),
  apply: (step, data, count, shape) => {
    const size = imageSize(shape);
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
      const factor = 1 / Math.max(std, step.epsilon);
      for (let i = 0; i < size; i++) data[n * size + i] = (data[n * size + i]! - mean) * factor;
    }
    return data;
  },
});

export const resize = definePreprocessing({
  type: 'resize',
  summary: 'Resize to height x width (bilinear).',
  args: args({ height: PositiveInt(), width: PositiveInt() }, { title: 'resize arguments' }),
  outputShape: (a, input) => ({ ...input, height: a.height, width: a.width }),
  apply: (step, data, count, shape) => resizeBilinear(data, count, shape, step.height, step.width),
});

export const toRgb = definePreprocessing({
  type: 'to_rgb',
  summary: 'Replicate a grayscale channel three times (48x48x1 -> 48x48x3) for models that want 3 channels.',
  args: args({}, { title: 'to_rgb arguments' }),
  outputShape: (_a, input) => ({ ...input, channels: 3 }),
  checkInput: (_a, input) => (input.channels !== 1 ? `\`to_rgb\` needs 1-channel images, and these have ${input.channels}` : undefined),
  apply: (_step, data, count, shape) => {
    const size = imageSize(shape);
    const out = new Float32Array(count * size * 3);
    for (let i = 0; i < count * size; i++) {
      const v = data[i]!;
      out[i * 3] = v;
      out[i * 3 + 1] = v;
      out[i * 3 + 2] = v;
    }
    return out;
  },
});

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

export const preprocessingDefinitions: PreprocessingDefinition[] = [scale, subtractMean, standardize, resize, toRgb];
