import { normalizeItem } from '../config/normalize.js';
import { entryOf, type Item, type ItemSpec } from '../core/item-spec.js';
import type { Tf } from '../core/tf.js';
import { builtinRegistry, type FerRegistry } from '../registry/index.js';
import type { LossFunction } from '../registry/losses.js';

export type { LossFunction };

/** The loss `training.loss` names (registry/losses.ts), on the class probabilities the models end with. */
export function buildLoss(tf: Tf, spec: ItemSpec | Item, registry: FerRegistry = builtinRegistry()): LossFunction {
  const { name, args } = entryOf(normalizeItem(registry, 'loss', spec));
  return registry.losses.get(name)!.build(args as never, tf);
}
