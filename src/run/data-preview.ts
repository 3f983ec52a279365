import type { DataConfig } from '../config/types.js';
import { entryOf, type Item, type ItemSpec } from '../core/item-spec.js';
import { imageSize } from '../core/image.js';
import { normalizeItem } from '../config/normalize.js';
import { createAugmenter } from '../data/augment.js';
import type { Dataset } from '../data/dataset.js';
import { fitPreprocessor, gatherRows } from '../data/preprocess.js';
import { randomStream } from '../data/random.js';
import { selectSplits } from '../data/splits.js';
import { imageGridSvg, type GridRow } from '../pictures/image-grid.js';
import type { FerRegistry } from '../registry/index.js';

/**
 * `fer data preview`: training images as the model sees them, so an augmentation can be checked
 * before hours of training. One row per class (its first training image), and columns: the image
 * as stored, after preprocessing, then after each augmentation alone, then after all of them (each
 * followed by the preprocessing, as in training). Preprocessed values are shown stretched to the
 * image's own range: a standardised image has no 0-255 of its own.
 */
export interface PreviewOptions {
  dataset: Dataset;
  data: DataConfig;
  seed: number;
  registry: FerRegistry;
  title: string;
  /** Images per class (each a row). */
  perClass?: number;
}

export function dataPreviewSvg(options: PreviewOptions): string {
  const { dataset, data, registry } = options;
  const { train } = selectSplits(dataset, data.split, options.seed);
  if (train.length === 0) throw new Error(`the train split \`${data.split.train}\` has no rows to preview`);
  const preprocessor = fitPreprocessor(data.preprocess, dataset, train, registry);
  const perClass = options.perClass ?? 1;
  const picked: number[] = [];
  for (let c = 0; c < dataset.classes.length; c++) {
    let found = 0;
    for (const row of train) {
      if (dataset.labels[row] !== c) continue;
      picked.push(row);
      if (++found >= perClass) break;
    }
  }
  const specs = data.augment as readonly (ItemSpec | Item)[];
  const names = specs.map((spec) => entryOf(normalizeItem(registry, 'augmentation', spec)).name);
  const shape = dataset.image;
  const size = imageSize(shape);
  const columns: { title: string; augment?: readonly (ItemSpec | Item)[]; preprocess: boolean }[] = [
    { title: 'stored', preprocess: false },
    { title: 'preprocessed', preprocess: true },
    ...specs.map((spec, i) => ({ title: `+ ${names[i]}`, augment: [spec], preprocess: true })),
    ...(specs.length > 1 ? [{ title: '+ all', augment: specs, preprocess: true }] : []),
  ];
  const rows: GridRow[] = picked.map((row, r) => ({
    label: dataset.classes[dataset.labels[row]!]!,
    images: columns.map((column, c) => {
      const raw = gatherRows(dataset, [row]);
      // The same draws for a row in every run, a different draw per column.
      if (column.augment) createAugmenter(column.augment, registry)?.apply(raw, 1, shape, randomStream(options.seed, 'preview', r, c));
      const shown = column.preprocess ? preprocessor.apply(raw, 1) : raw;
      const out = preprocessor.outputShape;
      const [width, height, channels] = column.preprocess ? [out.width, out.height, out.channels] : [shape.width, shape.height, shape.channels];
      return { pixels: column.preprocess ? stretch(shown) : Uint8Array.from(shown.subarray(0, size), (v) => clampByte(v)), width, height, channels, caption: r === 0 ? column.title : undefined };
    }),
  }));
  const steps = preprocessor.steps.map((s) => s.type).join(', ') || 'none';
  return imageGridSvg(rows, {
    title: options.title,
    subtitle: `train split \`${data.split.train}\`, one image per class; preprocessing: ${steps}; augmentations: ${names.join(', ') || 'none'}`,
    cell: 112,
  });
}

function clampByte(v: number): number {
  return Math.max(0, Math.min(255, Math.round(v)));
}

/** Values mapped to 0-255 by their own minimum and maximum. */
function stretch(values: Float32Array): Uint8Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi - lo || 1;
  return Uint8Array.from(values, (v) => clampByte(((v - lo) / span) * 255));
}
