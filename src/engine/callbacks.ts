import type * as tfjs from '@tensorflow/tfjs';
import { normalizeItem } from '../config/normalize.js';
import type { TrainingConfig } from '../config/types.js';
import { entryOf, itemOf, type Item } from '../core/item-spec.js';
import type { Tf } from '../core/tf.js';
import type { EpochValues, TrainingCallback } from '../registry/callbacks.js';
import type { FerRegistry } from '../registry/index.js';
import type { TrainerState } from './checkpoint.js';

/**
 * The training callbacks of a training section (registry/callbacks.ts): `early_stopping` when set,
 * then `callbacks` in order. After each epoch each sees the metrics; any may end training. The one
 * that restores the best weights has a copy of them kept here (and in the checkpoint), and training
 * ends with them.
 */
export class EpochCallbacks {
  private readonly callbacks: { name: string; callback: TrainingCallback }[];
  /** The callback whose best weights training ends with, if any. */
  private readonly restoring: number;
  /** Weights of the best epoch so far (owned here; disposed when replaced). */
  best: tfjs.Tensor[] | null = null;

  constructor(
    private readonly tf: Tf,
    registry: FerRegistry,
    training: TrainingConfig,
  ) {
    const items: Item[] = [...(training.early_stopping ? [itemOf('early_stopping', training.early_stopping)] : []), ...training.callbacks];
    this.callbacks = items.map((item) => {
      const { name, args } = entryOf(normalizeItem(registry, 'callback', item));
      return { name, callback: registry.callbacks.get(name)!.build(args as never, { epochs: training.epochs }) };
    });
    const restoring = this.callbacks.filter((c) => c.callback.restoresBest);
    if (restoring.length > 1) throw new Error(`only one callback may restore the best weights, and ${restoring.map((c) => `\`${c.name}\``).join(' and ')} both do`);
    this.restoring = this.callbacks.findIndex((c) => c.callback.restoresBest);
  }

  /** The callback that restores the best weights, and the metric it decides on. */
  monitorOf(): { name: string; metric: string } | undefined {
    const restoring = this.callbacks[this.restoring];
    if (!restoring) return undefined;
    return { name: restoring.name, metric: restoring.callback.monitor ?? 'its own measure' };
  }

  initialStates(): unknown[] {
    return this.callbacks.map((c) => c.callback.initialState());
  }

  /** Hands a finished epoch to every callback; keeps the weights a restoring callback calls best. Returns whether to stop. */
  afterEpoch(epoch: number, metrics: EpochValues, state: TrainerState, model: tfjs.LayersModel): boolean {
    let stop = false;
    this.callbacks.forEach(({ callback }, i) => {
      const decision = callback.onEpochEnd(epoch, metrics, state.callbacks[i]);
      if (decision?.stop) stop = true;
      if (decision?.best && i === this.restoring) {
        state.bestEpoch = epoch;
        this.tf.dispose(this.best ?? []);
        this.best = model.getWeights().map((w) => this.tf.keep(w.clone()));
      }
    });
    return stop;
  }

  /** Sets the model to the best epoch's weights when a callback restores them; returns that epoch (from 0), or undefined. */
  restoreBest(model: tfjs.LayersModel, state: TrainerState): number | undefined {
    if (this.restoring < 0 || !this.best || state.bestEpoch < 0) return undefined;
    model.setWeights(this.best);
    return state.bestEpoch;
  }

  dispose(): void {
    this.tf.dispose(this.best ?? []);
    this.best = null;
  }
}
