import { DataError } from '../core/data-error.js';
import { entryOf, type Item, type ItemSpec } from '../core/item-spec.js';
import { imageSize, type ImageShape } from '../core/image.js';
import { normalizeItem } from '../config/normalize.js';
import { builtinRegistry, type FerRegistry, type PreprocessingDefinition } from '../registry/index.js';
import type { FitContext } from '../registry/preprocessing.js';
import type { Dataset } from './dataset.js';

// Kept here for `fer predict`, which resizes the images it is given.
export { resizeBilinear } from '../registry/preprocessing.js';

/**
 * Preprocessing: the steps of data.preprocess, in order, turning raw pixel values (0-255, as
 * floats, after any augmentation) into model inputs. Each step is a registry entry
 * (registry/preprocessing.ts). Statistics (subtract_mean) are fitted on a fold's training rows
 * only, never its validation rows, by running the steps before them over those rows. The fitted
 * steps are plain data (`steps`: each `{type, ...arguments, ...statistics}`), saved with a model so
 * prediction applies exactly the same transformation.
 */
export type FittedStep = { type: string } & Record<string, unknown>;

export interface Preprocessor {
  readonly steps: readonly FittedStep[];
  readonly inputShape: ImageShape;
  readonly outputShape: ImageShape;
  /** Transforms `count` images (raw values, inputShape each) into a new array of model inputs. */
  apply(images: Float32Array, count: number): Float32Array;
}

/** Converts rows' stored bytes to floats (raw 0-255 values). */
export function gatherRows(dataset: Dataset, rows: ArrayLike<number>, out?: Float32Array): Float32Array {
  const size = imageSize(dataset.image);
  const target = out ?? new Float32Array(rows.length * size);
  for (let r = 0; r < rows.length; r++) {
    const start = rows[r]! * size;
    const source = dataset.pixels.subarray(start, start + size);
    target.set(source, r * size);
  }
  return target;
}

function definitionOf(registry: FerRegistry, type: string): PreprocessingDefinition {
  const definition = registry.preprocessing.get(type);
  if (definition === undefined) {
    throw new DataError(`unknown preprocessing step \`${type}\``, undefined, type.includes('/') ? `load the plugin \`${type.split('/')[0]}\` that defines it` : undefined);
  }
  return definition;
}

/** A preprocessor from fitted steps (as saved with a model); `registry` knows the steps' entries (plugins' too). */
export function preprocessorFromSteps(steps: readonly FittedStep[], inputShape: ImageShape, registry: FerRegistry = builtinRegistry()): Preprocessor {
  const stages: { step: FittedStep; definition: PreprocessingDefinition; shape: ImageShape }[] = [];
  let shape = inputShape;
  for (const step of steps) {
    const definition = definitionOf(registry, step.type);
    stages.push({ step, definition, shape });
    shape = definition.outputShape?.(step as never, shape) ?? shape;
  }
  return {
    steps,
    inputShape,
    outputShape: shape,
    apply(images, count) {
      let data = images;
      for (const { step, definition, shape: at } of stages) data = definition.apply(step as never, data, count, at);
      return data;
    },
  };
}

/** How a step sees the training rows: through the steps fitted before it, 1024 rows at a time. */
function fitContext(before: readonly FittedStep[], dataset: Dataset, rows: Int32Array, registry: FerRegistry): FitContext {
  const partial = preprocessorFromSteps(before, dataset.image, registry);
  return {
    shape: partial.outputShape,
    rows: rows.length,
    *chunks() {
      const chunk = 1024;
      for (let start = 0; start < rows.length; start += chunk) {
        const part = rows.subarray(start, Math.min(rows.length, start + chunk));
        yield { values: partial.apply(gatherRows(dataset, part), part.length), count: part.length };
      }
    },
  };
}

/** Fits the configured steps on `trainRows` (the training rows of one fold). */
export function fitPreprocessor(specs: readonly (ItemSpec | Item)[], dataset: Dataset, trainRows: Int32Array, registry: FerRegistry = builtinRegistry()): Preprocessor {
  const fitted: FittedStep[] = [];
  let shape = dataset.image;
  for (const spec of specs) {
    let item: Item;
    try {
      item = normalizeItem(registry, 'preprocessing', spec);
    } catch (error) {
      throw new DataError(`data.preprocess: ${(error as Error).message}`);
    }
    const { name, args } = entryOf(item);
    const definition = definitionOf(registry, name);
    const problem = definition.checkInput?.(args as never, shape);
    if (problem !== undefined) throw new DataError(`data.preprocess: ${problem}`);
    const statistics = definition.fit ? definition.fit(args as never, fitContext(fitted, dataset, trainRows, registry)) : {};
    fitted.push({ type: name, ...args, ...statistics });
    shape = definition.outputShape?.(args as never, shape) ?? shape;
  }
  return preprocessorFromSteps(fitted, dataset.image, registry);
}
