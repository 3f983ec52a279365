import type { ItemSpec } from '../registry/schema-helpers.js';

/**
 * Learning-rate schedules. A schedule is a pure function of where training is (epoch and step)
 * plus, for reduce_on_plateau, a small state that lives in the checkpoint, so a resumed run
 * continues with exactly the rate an uninterrupted one would have.
 */
export interface ScheduleState {
  /** reduce_on_plateau: the current multiplier, the best value seen and epochs since. */
  factor: number;
  best: number | null;
  wait: number;
}

export interface Schedule {
  /** The rate for a step (0-based epoch, 0-based step within it). */
  rate(epoch: number, step: number, stepsPerEpoch: number, state: ScheduleState): number;
  /** Called after each epoch with its metrics; updates the state (reduce_on_plateau). */
  endEpoch(metrics: Record<string, number | undefined>, state: ScheduleState): void;
}

export function initialScheduleState(): ScheduleState {
  return { factor: 1, best: null, wait: 0 };
}

export function buildSchedule(spec: ItemSpec | null | undefined, baseRate: number, epochs: number): Schedule {
  if (!spec) return { rate: () => baseRate, endEpoch: () => {} };
  const [type, raw] = typeof spec === 'string' ? [spec, {}] : (Object.entries(spec)[0] ?? ['', {}]);
  const a = (raw ?? {}) as Record<string, number | string | undefined>;
  switch (type) {
    case 'step': {
      const every = (a.every as number | undefined) ?? 10;
      const factor = (a.factor as number | undefined) ?? 0.1;
      return { rate: (epoch) => baseRate * factor ** Math.floor(epoch / every), endEpoch: () => {} };
    }
    case 'exponential': {
      const decay = (a.decay_rate as number | undefined) ?? 0.96;
      return { rate: (epoch) => baseRate * decay ** epoch, endEpoch: () => {} };
    }
    case 'cosine': {
      const warmup = (a.warmup_epochs as number | undefined) ?? 0;
      const floor = (a.min_learning_rate as number | undefined) ?? 0;
      return {
        rate: (epoch, step, stepsPerEpoch) => {
          const t = epoch + step / stepsPerEpoch;
          if (t < warmup) return (baseRate * (t + 1 / stepsPerEpoch)) / warmup;
          const progress = epochs > warmup ? Math.min(1, (t - warmup) / (epochs - warmup)) : 1;
          return floor + (baseRate - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
        },
        endEpoch: () => {},
      };
    }
    case 'reduce_on_plateau': {
      const monitor = (a.monitor as string | undefined) ?? 'val_loss';
      const factor = (a.factor as number | undefined) ?? 0.5;
      const patience = (a.patience as number | undefined) ?? 3;
      const minDelta = (a.min_delta as number | undefined) ?? 1e-4;
      const floor = (a.min_learning_rate as number | undefined) ?? 0;
      const lower = !monitor.includes('accuracy');
      return {
        rate: (_e, _s, _n, state) => Math.max(floor, baseRate * state.factor),
        endEpoch: (metrics, state) => {
          const value = metrics[monitor];
          if (value === undefined || Number.isNaN(value)) return;
          const improved = state.best === null || (lower ? value < state.best - minDelta : value > state.best + minDelta);
          if (improved) {
            state.best = value;
            state.wait = 0;
          } else if (++state.wait > patience) {
            state.factor *= factor;
            state.wait = 0;
          }
        },
      };
    }
    default:
      throw new Error(`unknown schedule \`${type}\``);
  }
}
