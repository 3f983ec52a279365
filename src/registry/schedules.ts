import { Type, type TObject } from '@sinclair/typebox';
import { improves, MONITORS } from './monitor.js';
import type { ArgsOf, ArgsSchema, Definition } from './registry.js';
import { args, choice } from './schema-helpers.js';

/**
 * Learning-rate schedules (`training.schedule`). A schedule is a pure function of where training is
 * (epoch and step) plus, for schedules that react to metrics, a small state that is saved in the
 * checkpoint, so a resumed run continues with exactly the rate an uninterrupted one would have.
 */
export interface ScheduleState {
  /** reduce_on_plateau: the current multiplier, the best value seen and epochs since. */
  factor: number;
  best: number | null;
  wait: number;
}

export interface Schedule {
  /** The rate for a step (0-based epoch of the stage, 0-based step within it). */
  rate(epoch: number, step: number, stepsPerEpoch: number, state: ScheduleState): number;
  /** Called after each epoch with its metrics; updates the state (reduce_on_plateau). */
  endEpoch(metrics: Readonly<Record<string, number | undefined>>, state: ScheduleState): void;
}

/** What a schedule is built for: the optimizer's rate and the epochs of the stage it runs in. */
export interface ScheduleContext {
  readonly baseRate: number;
  readonly epochs: number;
}

export interface ScheduleDefinition<A extends ArgsSchema = ArgsSchema> extends Definition {
  readonly args: A;
  build(args: ArgsOf<A>, context: ScheduleContext): Schedule;
}

/** Keeps the argument type of the behaviour tied to the schema at the definition site. */
export function defineSchedule<A extends TObject>(definition: ScheduleDefinition<A>): ScheduleDefinition<A> {
  return definition;
}

export function initialScheduleState(): ScheduleState {
  return { factor: 1, best: null, wait: 0 };
}

const noEpochEnd = (): void => {};

export const step = defineSchedule({
  type: 'step',
  summary: 'Multiply the rate by `factor` every `every` epochs.',
  args: args(
    { every: Type.Integer({ minimum: 1, default: 10 }), factor: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.1 }) },
    { title: 'step arguments' },
  ),
  build: (a, { baseRate }) => ({ rate: (epoch) => baseRate * a.factor ** Math.floor(epoch / a.every), endEpoch: noEpochEnd }),
});

export const exponential = defineSchedule({
  type: 'exponential',
  summary: 'Multiply the rate by `decay_rate` after every epoch.',
  args: args({ decay_rate: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.96 }) }, { title: 'exponential arguments' }),
  build: (a, { baseRate }) => ({ rate: (epoch) => baseRate * a.decay_rate ** epoch, endEpoch: noEpochEnd }),
});

export const cosine = defineSchedule({
  type: 'cosine',
  summary: 'Linear warm-up for `warmup_epochs`, then cosine decay to `min_learning_rate` by the last step (updated every step).',
  args: args(
    {
      warmup_epochs: Type.Number({ minimum: 0, default: 0 }),
      min_learning_rate: Type.Number({ minimum: 0, default: 0 }),
    },
    { title: 'cosine arguments' },
  ),
  build: (a, { baseRate, epochs }) => {
    const warmup = a.warmup_epochs;
    const floor = a.min_learning_rate;
    return {
      rate: (epoch, stepIndex, stepsPerEpoch) => {
        const t = epoch + stepIndex / stepsPerEpoch;
        if (t < warmup) return (baseRate * (t + 1 / stepsPerEpoch)) / warmup;
        const progress = epochs > warmup ? Math.min(1, (t - warmup) / (epochs - warmup)) : 1;
        return floor + (baseRate - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
      },
      endEpoch: noEpochEnd,
    };
  },
});

export const reduceOnPlateau = defineSchedule({
  type: 'reduce_on_plateau',
  summary: 'Multiply the rate by `factor` when `monitor` has not improved by `min_delta` for `patience` epochs.',
  args: args(
    {
      monitor: choice(MONITORS, { default: 'val_loss', description: 'the epoch metric to watch' }),
      factor: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.5 }),
      patience: Type.Integer({ minimum: 0, default: 3 }),
      min_delta: Type.Number({ minimum: 0, default: 1e-4 }),
      min_learning_rate: Type.Number({ minimum: 0, default: 0 }),
    },
    { title: 'reduce_on_plateau arguments' },
  ),
  build: (a, { baseRate }) => ({
    rate: (_epoch, _step, _steps, state) => Math.max(a.min_learning_rate, baseRate * state.factor),
    endEpoch: (metrics, state) => {
      const value = metrics[a.monitor];
      if (value === undefined || Number.isNaN(value)) return;
      if (improves(a.monitor, value, state.best, a.min_delta)) {
        state.best = value;
        state.wait = 0;
      } else if (++state.wait > a.patience) {
        state.factor *= a.factor;
        state.wait = 0;
      }
    },
  }),
});

export const scheduleDefinitions: ScheduleDefinition[] = [step, exponential, cosine, reduceOnPlateau];
