import { Type, type TObject } from '@sinclair/typebox';
import type { Definition } from './registry.js';
import { args, choice, PositiveInt } from './schema-helpers.js';

/**
 * Preprocessing steps (`data.preprocess`), applied to every image of every split. The registry holds
 * their names, arguments and docs; data/ executes them.
 */
export interface PreprocessingDefinition<A extends TObject = TObject> extends Definition {
  readonly args: A;
}

export const preprocessingDefinitions: PreprocessingDefinition[] = [
  {
    type: 'scale',
    summary: 'Multiply pixel values by `factor` (1/255 brings 0-255 to 0-1).',
    args: args({ factor: Type.Number({ default: 1 / 255, description: 'the multiplier' }) }, { title: 'scale arguments' }),
  },
  {
    type: 'subtract_mean',
    summary:
      "Subtract the mean of the training fold's rows (computed on that fold's training rows only, never its validation rows): one value over all pixels (`per: dataset`, the reference study) or one per pixel position (`per: pixel`).",
    args: args(
      {
        per: choice(['dataset', 'pixel'], { default: 'dataset' }),
      },
      { title: 'subtract_mean arguments' },
    ),
  },
  {
    type: 'standardize',
    summary: 'Per-image standardisation: subtract the image mean and divide by its standard deviation.',
    args: args({ epsilon: Type.Number({ exclusiveMinimum: 0, default: 1e-6 }) }, { title: 'standardize arguments' }),
  },
  {
    type: 'resize',
    summary: 'Resize to height x width (bilinear).',
    args: args({ height: PositiveInt(), width: PositiveInt() }, { title: 'resize arguments' }),
  },
  {
    type: 'to_rgb',
    summary: 'Replicate a grayscale channel three times (48x48x1 -> 48x48x3) for models that want 3 channels.',
    args: args({}, { title: 'to_rgb arguments' }),
  },
];
