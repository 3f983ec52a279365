import type * as tfjs from '@tensorflow/tfjs';
import type { LayerBuildContext } from '../registry/layer-definition.js';
import type { Shape, Tf } from '../core/tf.js';
import type { ImageShape } from '../core/image.js';
import type { AugmentationDefinition, Augmentation, ImagePlan, Random } from '../registry/augmentations.js';
import type { CallbackDecision, CallbackDefinition, EpochValues, TrainingCallback } from '../registry/callbacks.js';
import type { LossDefinition, LossFunction } from '../registry/losses.js';
import type { NativeKernels, OptimizerDefinition } from '../registry/optimizers.js';
import type { FitContext, PreprocessingDefinition } from '../registry/preprocessing.js';
import type { ObjectSchema } from '../registry/registry.js';
import type { Schedule, ScheduleDefinition, ScheduleState } from '../registry/schedules.js';
import type { SourceContext, SourceDefinition, SourceRows } from '../registry/sources/index.js';

/** What plugins name in their types: the tfjs namespace they are handed, tensor shapes, and the parts of each kind's behaviour. */
export type {
  LayerBuildContext,
  Shape,
  Tf,
  ImageShape,
  Augmentation,
  ImagePlan,
  Random,
  CallbackDecision,
  EpochValues,
  TrainingCallback,
  LossFunction,
  NativeKernels,
  FitContext,
  ObjectSchema,
  Schedule,
  ScheduleState,
  SourceContext,
  SourceRows,
};

/**
 * The plugin API, version 2. A plugin is a module whose default export is a plain object, in the
 * manner of ESLint's and Vite's plugin objects: a name (its namespace in configs), a version, and
 * what it contributes. Everything is namespaced: a plugin `se` contributing `squeeze_excite` is
 * written `se/squeeze_excite` in a config, so plugins cannot collide with fer or each other.
 *
 *   export default {
 *     name: 'mish', version: '1.0.0', api: 1,
 *     layers: [{ type: 'mish', summary: 'x * tanh(softplus(x))', layerClass: (tf) => class ... }],
 *   } satisfies FerPlugin;
 *
 * API 1 has layers and templates. API 2 adds every other kind a config names: augmentations,
 * preprocessing steps, schedules, losses, optimizers, data sources and training callbacks. Their
 * entries have the shape of fer's own (registry/*.ts): the same fields and the same behaviour,
 * with arguments as JSON Schema (TypeBox schemas are JSON Schema too). A plugin written for API 1
 * loads unchanged. docs/plugins.md is the guide.
 */
export const PLUGIN_API_VERSION = 2;

/** A tfjs layer class as plugins define it: `class X extends tf.layers.Layer { static className = 'plugin.X' }`. */
export interface PluginLayerClass {
  new (config: Record<string, unknown>): tfjs.layers.Layer;
  className: string;
}

export interface PluginLayer {
  /** The name within the plugin, lower_snake_case; configs write `<plugin>/<type>`. */
  type: string;
  /** One line for `fer plugins list`, the schema and editors. */
  summary: string;
  /**
   * JSON Schema of the arguments: an object schema (`properties`, `required`, `default`s;
   * TypeBox schemas are JSON Schema too). Validated by the same pass as built-in layers.
   * Default: no arguments.
   */
  args?: Record<string, unknown>;
  /**
   * The layer's own class, made from the tfjs namespace the engine loaded (so it extends the right
   * `tf.layers.Layer`). fer registers it for serialisation, which is what lets saved models with it
   * load again; its `className` must start with `<plugin>.` (e.g. `mish.Mish`).
   */
  layerClass?: (tf: Tf) => PluginLayerClass;
  /**
   * Builds the layer. Default: `new layerClass({ ...args, name, trainable, seed })` with argument
   * names in camelCase (`kernel_size` arrives as `kernelSize`, as tfjs passes them when a saved
   * model is loaded; getConfig returns them the same way), and `seed` for the layer's initializers
   * (derived from the experiment seed: use it for determinism).
   */
  build?: (args: Record<string, unknown>, context: LayerBuildContext & { layerClass?: PluginLayerClass }) => tfjs.layers.Layer;
  /** Optional check of input shapes (batch first): a message saying what is wrong and how to fix it. */
  checkInput?: (shapes: readonly Shape[], args: Record<string, unknown>) => string | undefined;
}

/**
 * An entry of an API 2 kind as a plugin writes it: fer's own shape for that kind, with `type` the
 * name within the plugin, `args` a JSON Schema of an object (default: no arguments) and the
 * behaviour receiving the arguments with their defaults filled in.
 */
export type PluginEntry<D extends { args: unknown; plugin?: string }> = Omit<D, 'args' | 'plugin'> & { args?: ObjectSchema };

export type PluginAugmentation = PluginEntry<AugmentationDefinition<ObjectSchema>>;
export type PluginPreprocessing = PluginEntry<PreprocessingDefinition<ObjectSchema, Record<string, unknown>>>;
export type PluginSchedule = PluginEntry<ScheduleDefinition<ObjectSchema>>;
export type PluginLoss = PluginEntry<LossDefinition<ObjectSchema>>;
export type PluginOptimizer = PluginEntry<OptimizerDefinition<ObjectSchema>>;
export type PluginSource = PluginEntry<SourceDefinition<ObjectSchema>>;
export type PluginCallback = PluginEntry<CallbackDefinition<ObjectSchema>>;

export interface FerPlugin {
  /** The namespace: lower_snake_case, unique among the plugins of a config. */
  name: string;
  version: string;
  /** The plugin API this plugin was written for (default 1; the API 2 kinds below need 2). */
  api?: number;
  description?: string;
  layers?: PluginLayer[];
  /**
   * A YAML file, relative to the plugin's own file, holding `templates:` whose names all start
   * with `<plugin>/`; configs use them like their own (`use: se/conv_se_block`).
   */
  templates?: string;
  /** API 2: random changes to training images (`data.augment`). */
  augmentations?: PluginAugmentation[];
  /** API 2: steps applied to every image (`data.preprocess`). */
  preprocessing?: PluginPreprocessing[];
  /** API 2: learning-rate schedules (`training.schedule`). */
  schedules?: PluginSchedule[];
  /** API 2: training objectives (`training.loss`). */
  losses?: PluginLoss[];
  /** API 2: optimizers (`training.optimizer`). */
  optimizers?: PluginOptimizer[];
  /** API 2: where images come from (`data.source`). */
  sources?: PluginSource[];
  /** API 2: what looks at each epoch's metrics and may end training (`training.callbacks`). */
  callbacks?: PluginCallback[];
}

/** Identity, for type checking in plain JavaScript plugins (`export default definePlugin({...})`). */
export function definePlugin(plugin: FerPlugin): FerPlugin {
  return plugin;
}
