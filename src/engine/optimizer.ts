import { createNativeOptimizer, nativeOptimizersAvailable } from '../backend/native/optimizers.js';
import { normalizeItem } from '../config/normalize.js';
import { entryOf, itemOf, type Item, type ItemSpec } from '../core/item-spec.js';
import type { Tf, TfOptimizer } from '../core/tf.js';
import type { FerRegistry } from '../registry/index.js';
import type { NativeKernels } from '../registry/optimizers.js';

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

/** The optimizer item with another learning rate (a stage's own). */
export function withLearningRate(spec: Item, learningRate: number): Item {
  const { name, args } = entryOf(spec);
  return itemOf(name, { ...args, learning_rate: learningRate });
}

/** SGD-family optimizers cache the rate (setLearningRate); the others read the field at each step. */
export function setLearningRate(optimizer: TfOptimizer, rate: number): void {
  const o = optimizer as unknown as { learningRate: number; setLearningRate?: (r: number) => void };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(rate);
  else o.learningRate = rate;
}
