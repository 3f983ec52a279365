import { Type } from '@sinclair/typebox';
import seedrandom from 'seedrandom';
import { imageSize, type ImageShape } from '../../core/image.js';
import { args, PositiveInt } from '../schema-helpers.js';
import type { SourceRows } from './rows.js';
import { defineSource } from './source.js';

export interface SyntheticSourceOptions {
  rowsPerClass: number;
  splits: readonly string[];
  noise: number;
  classes: readonly string[];
  image: ImageShape;
  seed: number;
}

/**
 * Images with class-dependent patterns, so a small CNN can learn them in a minute: each class is a
 * sinusoidal grating with its own orientation and frequency plus a blob at its own place, drawn
 * with a random phase and shift, then Gaussian noise (`noise` in units of the pattern's contrast).
 * Fully determined by the seed: the demo and the tests need no downloaded data.
 */
export function readSyntheticSource(options: SyntheticSourceOptions): SourceRows {
  const { height, width, channels } = options.image;
  const perImage = imageSize(options.image);
  const classes = options.classes.length;
  const total = options.rowsPerClass * classes * options.splits.length;
  const pixels = new Uint8Array(total * perImage);
  const labels = new Uint8Array(total);
  const splits = new Uint8Array(total);
  const random = seedrandom.alea(`fer-synthetic/${options.seed}`);
  const gaussian = () => {
    const u = Math.max(random(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
  let row = 0;
  options.splits.forEach((_, split) => {
    for (let r = 0; r < options.rowsPerClass; r++) {
      for (let label = 0; label < classes; label++) {
        const angle = (Math.PI * label) / classes;
        const frequency = 2 + (label % 3);
        const phase = random() * 2 * Math.PI;
        const blobX = 0.25 + 0.5 * ((label * 0.37) % 1) + (random() - 0.5) * 0.1;
        const blobY = 0.25 + 0.5 * ((label * 0.61) % 1) + (random() - 0.5) * 0.1;
        const base = row * perImage;
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) {
            const u = x / width;
            const v = y / height;
            const grating = Math.sin(2 * Math.PI * frequency * (u * Math.cos(angle) + v * Math.sin(angle)) + phase);
            const blob = Math.exp(-((u - blobX) ** 2 + (v - blobY) ** 2) / 0.01);
            const value = 128 + 60 * grating + 60 * blob + 60 * options.noise * gaussian();
            const pixel = Math.max(0, Math.min(255, Math.round(value)));
            for (let c = 0; c < channels; c++) pixels[base + (y * width + x) * channels + c] = pixel;
          }
        }
        labels[row] = label;
        splits[row] = split;
        row++;
      }
    }
  });
  return { pixels, labels, splits, splitNames: [...options.splits] };
}

/** `synthetic: {rows_per_class: 200}`: generated from the seed, so demos and tests need no download. */
export const syntheticSource = defineSource({
  type: 'synthetic',
  summary: 'Generated images with class-dependent patterns (gratings and blobs), drawn from the experiment seed: no data to download.',
  args: args(
    {
      rows_per_class: PositiveInt({ default: 200, description: 'images per class in each split' }),
      splits: Type.Array(Type.String({ minLength: 1 }), {
        default: ['train', 'test'],
        minItems: 1,
        description: 'the names of the splits to generate',
      }),
      noise: Type.Number({ minimum: 0, default: 0.3, description: 'how hard the classes are to tell apart' }),
    },
    { title: 'synthetic source' },
  ),
  describe: () => ({ source: 'synthetic', task: 'generating synthetic images' }),
  read: (a, context) =>
    readSyntheticSource({ rowsPerClass: a.rows_per_class, splits: a.splits, noise: a.noise, classes: context.classes, image: context.image, seed: context.seed }),
});
