import type { Diagnostic } from '../core/diagnostic.js';
import { displayPath, type DocumentPath } from '../core/document-path.js';
import { entryOf, type Item } from '../core/item-spec.js';
import type { FerRegistry } from '../registry/index.js';
import type { Locator } from '../schema/errors.js';
import { modelInputShape } from './shape.js';
import type { FerConfig } from './types.js';

/**
 * The sizes that must agree between training images, test-time views and the models, checked on
 * the normalised config (every item written out) so each mismatch is reported at the entry that
 * makes it:
 * - a test-time view that crops (`ten_crop`) hands the models crops of its `size`: every model
 *   must take that size;
 * - the `crop` augmentation keeps the image's size: its `size` is data.image's.
 */
export function checkImageSizes(config: FerConfig, registry: FerRegistry, locate: Locator): Diagnostic[] {
  const out: Diagnostic[] = [];
  const error = (at: DocumentPath, message: string, hint: string): void => {
    out.push({ severity: 'error', code: 'shape', message, hint, span: locate(at).span, path: displayPath(at) });
  };
  const tta: Item[] = Array.isArray(config.evaluation?.tta) ? config.evaluation.tta : [];
  tta.forEach((item, i) => {
    if (typeof item !== 'object' || item === null || Object.keys(item).length !== 1) return;
    const { name, args } = entryOf(item);
    const size = registry.testTimeViews.get(name)?.size?.(args as never);
    if (size === undefined) return;
    for (const [model, body] of Object.entries(config.models ?? {})) {
      const input = Array.isArray(body?.input) && body.input.length >= 2 ? [body.input[0], body.input[1]] : modelInputShape(config, registry).slice(0, 2);
      if (input[0] !== size || input[1] !== size) {
        error(
          ['evaluation', 'tta', i],
          `${name} makes ${size}x${size} crops, but model \`${model}\` takes ${input[0]}x${input[1]} images`,
          `crops must be the models' input size: set size: ${input[0]} and resize the image first (resize: ${Number(input[0]) + 8}, say), training on the same size with data.augment \`crop\` (padding 4)`,
        );
        return;
      }
    }
  });
  const image = config.data?.image;
  (Array.isArray(config.data?.augment) ? config.data.augment : []).forEach((item, i) => {
    if (typeof item !== 'object' || item === null || Object.keys(item).length !== 1 || !image) return;
    const { name, args } = entryOf(item as Item);
    if (name !== 'crop') return;
    const size = (args as { size?: number }).size;
    if (typeof size === 'number' && (size !== image.height || size !== image.width)) {
      error(['data', 'augment', i], `crop makes ${size}x${size} windows of ${image.height}x${image.width} images: a crop keeps the image's size`, `set size: ${image.height} (and padding for how far the window may move)`);
    }
  });
  return out;
}
