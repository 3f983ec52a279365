import type { Shape, Tf } from '../core/tf.js';
import { deriveSeed } from '../core/seed.js';
import { weightPenalty } from '../layers/weight-penalty.js';
import type { FerRegistry } from '../registry/index.js';
import type { LayerBuildContext } from '../registry/layer-definition.js';
import type { ItemSpec, RegularizerSpec } from '../registry/schema-helpers.js';
import { entryOf } from '../core/item-spec.js';
import { normalizeItem } from '../config/normalize.js';

/** What every layer of one model is built with: the tf, the registry, and how to draw initial weights. */
export interface ModelBuildSettings {
  tf: Tf;
  registry: FerRegistry;
  /** The model's weight seed; each weight's own seed derives from it, the layer name and the role. */
  seed: number;
  /** false: every weight starts at zero (inspection only: validate, compile). */
  initialize: boolean;
}

/**
 * What a layer's builder gets besides its arguments: seeded initializers, regularizers, activation
 * names and seeds of its own, so that the same config and seed always give the same weights.
 */
export function layerBuildContext(settings: ModelBuildSettings, name: string, inputShapes: readonly Shape[], trainable: boolean): LayerBuildContext {
  const { tf, registry, seed, initialize } = settings;
  return {
    tf,
    name,
    trainable,
    inputShapes,
    initializer: (spec: ItemSpec, role: string) => {
      const { name: type, args } = entryOf(normalizeItem(registry, 'initializer', spec));
      if (!initialize) return tf.initializers.zeros();
      return registry.initializers.get(type)!.build(args as never, deriveSeed(seed, name, role), tf);
    },
    regularizer: (spec: RegularizerSpec | null | undefined) => {
      if (!spec) return undefined;
      const l1 = spec.l1 ?? 0;
      const l2 = spec.l2 ?? 0;
      if (l1 === 0 && l2 === 0) return undefined;
      return weightPenalty(tf, l1, l2);
    },
    activation: (activationName: string) => registry.activations.get(activationName)?.tfjs ?? activationName,
    seed: (role: string) => deriveSeed(seed, name, role),
  };
}
