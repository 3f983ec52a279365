import type { FerConfig } from './types.js';
import { FER2013_CLASSES } from '../schema/sections.js';

/** The shape of the images the models receive (after preprocessing), without the batch dimension. */
export function modelInputShape(config: FerConfig): [number, number, number] {
  const image = config.data?.image ?? { height: 48, width: 48, channels: 1 };
  let [height, width, channels] = [image.height, image.width, image.channels as number];
  for (const step of config.data?.preprocess ?? []) {
    const [type, args] = typeof step === 'string' ? [step, {}] : (Object.entries(step)[0] ?? ['', {}]);
    if (type === 'to_rgb') channels = 3;
    if (type === 'resize' && args) {
      const size = args as { height: number; width: number };
      height = size.height;
      width = size.width;
    }
  }
  return [height, width, channels];
}

/** The classes models predict: the merged ones when data.merge_classes is set, else data.classes. */
export function classNames(config: FerConfig): string[] {
  const merged = config.data?.merge_classes;
  return merged ? Object.keys(merged) : (config.data?.classes ?? FER2013_CLASSES);
}
