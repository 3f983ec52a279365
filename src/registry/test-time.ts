import { Type, type TObject } from '@sinclair/typebox';
import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../core/tf.js';
import type { ArgsOf, ArgsSchema, Definition } from './registry.js';
import { args, PositiveInt } from './schema-helpers.js';

/**
 * Test-time views (`evaluation.tta`): the versions of each image a model predicts at test time,
 * whose probabilities are then averaged. Each entry is a pure function of a batch of model inputs
 * (NHWC, after preprocessing) to a list of batches of the same size: no state, no randomness, no
 * JS reads of tensor values, so the same functions serve the run's test predictions, `fer
 * evaluate`, `fer predict` and an exported graph alike (data/test-time.ts puts them together).
 *
 * A view that crops says what size it makes (`size`): the model takes that size, or the config is
 * refused at the entry's line (config/image-sizes.ts).
 */

export interface TestTimeViewDefinition<A extends ArgsSchema = ArgsSchema> extends Definition {
  readonly args: A;
  /** The height and width of the views, when they are not the input's own. */
  size?(args: ArgsOf<A>): number | undefined;
  /** The views of a batch (the input itself included when the view keeps it). */
  views(tf: Tf, x: tfjs.Tensor4D, args: ArgsOf<A>): tfjs.Tensor4D[];
  /** A problem with the arguments the schema cannot express, reported at the entry's line. */
  check?(args: ArgsOf<A>): string | undefined;
}

export function defineTestTimeView<A extends TObject>(definition: TestTimeViewDefinition<A>): TestTimeViewDefinition<A> {
  return definition;
}

/** Mirror left-right (the width axis of NHWC). */
export function mirror(tf: Tf, x: tfjs.Tensor4D): tfjs.Tensor4D {
  return tf.reverse(x, 2);
}

/** The window of `size` at (top, left). */
function window(tf: Tf, x: tfjs.Tensor4D, top: number, left: number, size: number): tfjs.Tensor4D {
  return tf.slice(x, [0, top, left, 0], [-1, size, size, -1]);
}

export const flipView = defineTestTimeView({
  type: 'flip',
  summary: 'The image and its mirror image (2 views).',
  args: args({}, { title: 'flip arguments' }),
  views: (tf, x) => [x, mirror(tf, x)],
});

export const tenCropView = defineTestTimeView({
  type: 'ten_crop',
  summary:
    'The four corners and the centre of a size x size window, each also mirrored (10 views), after resizing the image to `resize` when set. The model must take size x size images: train it on the same size (e.g. data.augment `crop` with padding, and `resize` here: size + 2 x padding).',
  args: args(
    {
      size: PositiveInt({ description: 'height and width of each crop: the model\'s input size' }),
      resize: Type.Union([PositiveInt(), Type.Null()], { default: null, description: 'first resize the image (bilinear) to resize x resize (null: crop the image as it is)' }),
    },
    { title: 'ten_crop arguments' },
  ),
  size: (a) => a.size,
  check: (a) => (a.resize !== null && a.resize < a.size ? `resize (${a.resize}) is smaller than the crop size (${a.size})` : undefined),
  views(tf, x, a) {
    const source = a.resize === null ? x : tf.image.resizeBilinear(x, [a.resize, a.resize]);
    const [height, width] = [source.shape[1], source.shape[2]];
    if (height < a.size || width < a.size) throw new Error(`ten_crop: the image (${height}x${width}) is smaller than the crop size ${a.size}`);
    const bottom = height - a.size;
    const right = width - a.size;
    const crops = [
      window(tf, source, 0, 0, a.size),
      window(tf, source, 0, right, a.size),
      window(tf, source, bottom, 0, a.size),
      window(tf, source, bottom, right, a.size),
      window(tf, source, Math.floor(bottom / 2), Math.floor(right / 2), a.size),
    ];
    return [...crops, ...crops.map((c) => mirror(tf, c))];
  },
});

export const shiftView = defineTestTimeView({
  type: 'shift',
  summary: 'The image and four copies moved by `pixels` left, right, up and down, the uncovered edge filled with zeros (5 views).',
  args: args({ pixels: PositiveInt({ default: 2, description: 'how far each copy moves' }) }, { title: 'shift view arguments' }),
  views(tf, x, a) {
    const p = a.pixels;
    const [height, width] = [x.shape[1], x.shape[2]];
    const padded = tf.pad(x, [
      [0, 0],
      [p, p],
      [p, p],
      [0, 0],
    ]);
    const at = (top: number, left: number) => tf.slice(padded, [0, top, left, 0], [-1, height, width, -1]);
    return [x, at(p, 0), at(p, 2 * p), at(0, p), at(2 * p, p)];
  },
});

/** fer's test-time views. */
export const testTimeViewDefinitions: TestTimeViewDefinition[] = [flipView, tenCropView, shiftView] as TestTimeViewDefinition[];
