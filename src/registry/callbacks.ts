import { Type, type TObject } from '@sinclair/typebox';
import { improves, lowerIsBetter, MONITORS } from './monitor.js';
import type { ArgsOf, ArgsSchema, Definition } from './registry.js';
import { args, choice } from './schema-helpers.js';

/**
 * Training callbacks (`training.callbacks`, and `training.early_stopping` for the built-in one):
 * after every epoch the trainer hands each its metrics. A callback may end training, and may mark
 * the epoch's weights as the best so far: when it says it restores the best, the trainer keeps a
 * copy of them and ends with them. Its state is plain JSON saved in the checkpoint, so a resumed
 * run decides exactly as an uninterrupted one.
 */

/** The metrics of a finished epoch: loss, accuracy, val_loss, val_accuracy (with validation rows), learning_rate... */
export type EpochValues = Readonly<Record<string, number | undefined>>;

export interface CallbackDecision {
  /** End training after this epoch. */
  stop?: boolean;
  /** This epoch's weights are the best so far. */
  best?: boolean;
}

export interface TrainingCallback<S = unknown> {
  /** The state before the first epoch (JSON: it is saved with every checkpoint). */
  initialState(): S;
  /** After each epoch (`epoch` from 0), with its metrics; may change `state`. */
  onEpochEnd(epoch: number, metrics: EpochValues, state: S): CallbackDecision | void;
  /** Training ends with the weights of the epoch this callback last called best (at most one callback may). */
  readonly restoresBest?: boolean;
  /** The metric it decides on (for the report's "why these weights"). */
  readonly monitor?: string;
}

/** What a callback is built for. */
export interface CallbackContext {
  /** The epochs training will run, all stages together. */
  readonly epochs: number;
}

export interface CallbackDefinition<A extends ArgsSchema = ArgsSchema> extends Definition {
  readonly args: A;
  build(args: ArgsOf<A>, context: CallbackContext): TrainingCallback;
}

/** Keeps the argument type of the behaviour tied to the schema at the definition site. */
export function defineCallback<A extends TObject>(definition: CallbackDefinition<A>): CallbackDefinition<A> {
  return definition;
}

interface EarlyStoppingState {
  best: number | null;
  wait: number;
}

export const earlyStopping = defineCallback({
  type: 'early_stopping',
  summary: 'Stop when the monitored metric has not improved by `min_delta` for `patience` epochs; end with the best epoch\'s weights.',
  args: args(
    {
      monitor: choice(MONITORS, { default: 'val_loss', description: 'the epoch metric to watch' }),
      patience: Type.Integer({ minimum: 1, default: 5, description: 'epochs without improvement before stopping' }),
      min_delta: Type.Number({ minimum: 0, default: 0, description: 'smallest change that counts as an improvement' }),
      restore_best: Type.Boolean({ default: true, description: 'end with the weights of the best epoch' }),
    },
    { title: 'early_stopping' },
  ),
  build: (a): TrainingCallback<EarlyStoppingState> => ({
    restoresBest: a.restore_best,
    monitor: a.monitor,
    initialState: () => ({ best: null, wait: 0 }),
    onEpochEnd: (_epoch, metrics, state) => {
      const value = metrics[a.monitor];
      if (value === undefined) return undefined;
      if (improves(a.monitor, value, state.best, a.min_delta)) {
        state.best = value;
        state.wait = 0;
        return { best: true };
      }
      return ++state.wait >= a.patience ? { stop: true } : undefined;
    },
  }),
});

/**
 * Stops a task whose monitored metric is worse than a threshold at given epochs: how `fer sweep`
 * prunes weak trials (ASHA rungs, median rule). The sweep computes the thresholds from the trials
 * finished before this one, so the decision is part of the trial's config and a resumed trial
 * decides as an uninterrupted one.
 */
export const pruneBelow = defineCallback({
  type: 'prune_below',
  summary: 'Stop when the monitored metric is worse than the threshold given for an epoch (fer sweep writes these for pruning).',
  args: args(
    {
      monitor: choice(MONITORS, { default: 'val_accuracy', description: 'the epoch metric compared' }),
      thresholds: Type.Array(
        Type.Object(
          {
            epoch: Type.Integer({ minimum: 1, description: 'the epoch (from 1) the threshold applies after' }),
            value: Type.Number({ description: 'stop when the metric is worse than this' }),
          },
          { additionalProperties: false },
        ),
        { default: [], description: 'per epoch, the value to beat' },
      ),
      rule: Type.String({ default: 'threshold', description: 'where the thresholds come from (asha, median), for reports' }),
    },
    { title: 'prune_below' },
  ),
  build: (a): TrainingCallback<null> => ({
    initialState: () => null,
    onEpochEnd: (epoch, metrics) => {
      const threshold = a.thresholds.find((t) => t.epoch === epoch + 1);
      const value = metrics[a.monitor];
      if (threshold === undefined || value === undefined) return undefined;
      const worse = lowerIsBetter(a.monitor) ? value > threshold.value : value < threshold.value;
      return worse ? { stop: true } : undefined;
    },
  }),
});

export const callbackDefinitions: CallbackDefinition[] = [earlyStopping, pruneBelow];
