import { createNativeOptimizer, nativeOptimizersAvailable } from '../backend/native/optimizers.js';
import { normalizeItem } from '../config/normalize.js';
import type { TrainingConfig } from '../config/types.js';
import { entryOf, itemOf, type Item, type ItemSpec } from '../core/item-spec.js';
import type { Tf, TfOptimizer } from '../core/tf.js';
import { builtinRegistry, type FerRegistry } from '../registry/index.js';
import type { NativeKernels } from '../registry/optimizers.js';
import type { Schedule } from '../registry/schedules.js';

/**
 * The optimizer a stage trains with and its learning rate: the optimizer's own rate (or the
 * stage's), moved along the schedule at every step. Rate and optimizer live together because the
 * three rules that decide the rate (entry default, stage override, schedule) and the call that
 * applies it read the same numbers; the optimizers and schedules themselves are registry entries.
 */

/** TensorFlow's fused training kernels, for an entry's `buildNative`. */
function nativeKernels(tf: Tf): NativeKernels {
  return {
    adam: (options) => createNativeOptimizer(tf, { kind: 'adam', ...options }),
    sgd: (options) => createNativeOptimizer(tf, { kind: 'sgd', ...options }),
    momentum: (options) => createNativeOptimizer(tf, { kind: 'momentum', ...options }),
  };
}

/**
 * Builds the optimizer an item names (`training.optimizer`); returns it with its base learning
 * rate. On the native backend an entry with `buildNative` (adam, adamw, sgd) runs as TensorFlow's
 * fused kernels; every other one, and every one elsewhere, through its `build`.
 */
export function buildOptimizer(tf: Tf, registry: FerRegistry, spec: ItemSpec | Item): { optimizer: TfOptimizer; baseRate: number } {
  const { name, args } = entryOf(normalizeItem(registry, 'optimizer', spec));
  const definition = registry.optimizers.get(name)!;
  const baseRate = args.learning_rate as number;
  if (definition.buildNative && nativeOptimizersAvailable(tf)) return { optimizer: definition.buildNative(args as never, nativeKernels(tf)), baseRate };
  return { optimizer: definition.build(args as never, tf), baseRate };
}

/** A constant rate: no schedule. */
const constant = (baseRate: number): Schedule => ({ rate: () => baseRate, endEpoch: () => {} });

/**
 * The schedule `training.schedule` names (registry/schedules.ts), for an optimizer's base rate over
 * the epochs of one stage; null or absent: the base rate throughout.
 */
export function buildSchedule(spec: ItemSpec | Item | null | undefined, baseRate: number, epochs: number, registry: FerRegistry = builtinRegistry()): Schedule {
  if (!spec) return constant(baseRate);
  const { name, args } = entryOf(normalizeItem(registry, 'schedule', spec));
  return registry.schedules.get(name)!.build(args as never, { baseRate, epochs });
}

/**
 * What one stage trains with: a fresh optimizer at the stage's own rate (else the optimizer's) and
 * the schedule that moves that rate over the stage's epochs.
 */
export function stageOptimizer(
  tf: Tf,
  registry: FerRegistry,
  training: Pick<TrainingConfig, 'optimizer' | 'schedule'>,
  stage: { epochs: number; learning_rate: number | null },
): { optimizer: TfOptimizer; baseRate: number; schedule: Schedule } {
  const spec = stage.learning_rate ? withLearningRate(training.optimizer, stage.learning_rate) : training.optimizer;
  const { optimizer, baseRate } = buildOptimizer(tf, registry, spec);
  return { optimizer, baseRate, schedule: buildSchedule(training.schedule, baseRate, stage.epochs, registry) };
}

/** The optimizer item with another learning rate (a stage's own). */
function withLearningRate(spec: Item, learningRate: number): Item {
  const { name, args } = entryOf(spec);
  return itemOf(name, { ...args, learning_rate: learningRate });
}

/** SGD-family optimizers cache the rate (setLearningRate); the others read the field at each step. */
export function setLearningRate(optimizer: TfOptimizer, rate: number): void {
  const o = optimizer as unknown as { learningRate: number; setLearningRate?: (r: number) => void };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(rate);
  else o.learningRate = rate;
}
