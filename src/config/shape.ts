import type { ImageShape } from '../core/image.js';
import { entryOf } from '../core/item-spec.js';
import type { FerRegistry } from '../registry/index.js';
import { defaultImageAndClasses } from './normalize.js';
import type { FerConfig } from './types.js';

/**
 * The shape of the images the models receive, without the batch dimension: data.image as each
 * preprocessing step hands it on (its entry's `outputShape`: resize, to_rgb...).
 */
export function modelInputShape(config: FerConfig, registry: FerRegistry): [number, number, number] {
  let shape: ImageShape = { ...(config.data?.image ?? defaultImageAndClasses().image) };
  for (const step of config.data?.preprocess ?? []) {
    // A config with errors is still compiled (validate): skip what the schema rejected.
    if (typeof step !== 'string' && Object.keys(step).length !== 1) continue;
    const { name, args } = entryOf(step);
    const definition = registry.preprocessing.get(name);
    if (definition?.outputShape) shape = definition.outputShape(args, shape);
  }
  return [shape.height, shape.width, shape.channels];
}

/** The classes models predict: the merged ones when data.merge_classes is set, else data.classes. */
export function classNames(config: FerConfig): string[] {
  const merged = config.data?.merge_classes;
  return merged ? Object.keys(merged) : (config.data?.classes ?? defaultImageAndClasses().classes);
}
