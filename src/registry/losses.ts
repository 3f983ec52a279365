import { Type, type TObject } from '@sinclair/typebox';
import type { Definition } from './registry.js';
import { args } from './schema-helpers.js';

/** Training objectives. Their computation lives with the trainer (engine/); the registry holds names, arguments and docs. */
export interface LossDefinition<A extends TObject = TObject> extends Definition {
  readonly keras?: string;
  readonly args: A;
}

export const lossDefinitions: LossDefinition[] = [
  {
    type: 'categorical_crossentropy',
    keras: 'CategoricalCrossentropy',
    summary: 'Cross-entropy between one-hot labels and predicted class probabilities.',
    args: args(
      {
        label_smoothing: Type.Number({
          minimum: 0,
          exclusiveMaximum: 1,
          default: 0,
          description: 'mix the one-hot labels with the uniform distribution by this much',
        }),
      },
      { title: 'categorical_crossentropy arguments' },
    ),
  },
];
