/** The epoch metrics early stopping and reduce_on_plateau may watch (never test metrics). */
export const MONITORS = ['val_loss', 'val_accuracy', 'loss', 'accuracy'] as const;
export type Monitor = (typeof MONITORS)[number];

/** Losses improve downwards, accuracies upwards. */
export function lowerIsBetter(monitor: string): boolean {
  return !monitor.includes('accuracy');
}

/**
 * Whether `value` of a watched metric improves on the best so far by more than `minDelta`; the
 * first value always does. The one test early stopping, reduce_on_plateau and plugins share.
 */
export function improves(monitor: string, value: number, best: number | null, minDelta: number): boolean {
  if (best === null) return true;
  return lowerIsBetter(monitor) ? value < best - minDelta : value > best + minDelta;
}
