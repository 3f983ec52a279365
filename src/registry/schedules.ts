import { Type, type TObject } from '@sinclair/typebox';
import type { Definition } from './registry.js';
import { args, choice, MONITORS } from './schema-helpers.js';

/** Learning-rate schedules (`training.schedule`); engine/schedules.ts computes the rates. */
export interface ScheduleDefinition<A extends TObject = TObject> extends Definition {
  readonly args: A;
}

const monitor = choice(MONITORS, { default: 'val_loss', description: 'the epoch metric to watch' });

export const scheduleDefinitions: ScheduleDefinition[] = [
  {
    type: 'step',
    summary: 'Multiply the rate by `factor` every `every` epochs.',
    args: args(
      { every: Type.Integer({ minimum: 1, default: 10 }), factor: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.1 }) },
      { title: 'step arguments' },
    ),
  },
  {
    type: 'exponential',
    summary: 'Multiply the rate by `decay_rate` after every epoch.',
    args: args({ decay_rate: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.96 }) }, { title: 'exponential arguments' }),
  },
  {
    type: 'cosine',
    summary: 'Linear warm-up for `warmup_epochs`, then cosine decay to `min_learning_rate` by the last step (updated every step).',
    args: args(
      {
        warmup_epochs: Type.Number({ minimum: 0, default: 0 }),
        min_learning_rate: Type.Number({ minimum: 0, default: 0 }),
      },
      { title: 'cosine arguments' },
    ),
  },
  {
    type: 'reduce_on_plateau',
    summary: 'Multiply the rate by `factor` when `monitor` has not improved by `min_delta` for `patience` epochs.',
    args: args(
      {
        monitor,
        factor: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.5 }),
        patience: Type.Integer({ minimum: 0, default: 3 }),
        min_delta: Type.Number({ minimum: 0, default: 1e-4 }),
        min_learning_rate: Type.Number({ minimum: 0, default: 0 }),
      },
      { title: 'reduce_on_plateau arguments' },
    ),
  },
];

