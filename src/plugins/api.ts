import type * as tfjs from '@tensorflow/tfjs';
import type { LayerBuildContext } from '../registry/layer-definition.js';
import type { Shape, Tf } from '../core/tf.js';

/** What plugins name in their types: the tfjs namespace they are handed, and tensor shapes. */
export type { LayerBuildContext, Shape, Tf };

/**
 * The plugin API, version 1. A plugin is a module whose default export is a plain object, in the
 * manner of ESLint's and Vite's plugin objects: a name (its namespace in configs), a version, and
 * what it contributes. Layers are namespaced: a plugin `se` contributing `squeeze_excite` is
 * written `se/squeeze_excite` in a config, so plugins cannot collide with fer or each other.
 *
 *   export default {
 *     name: 'mish', version: '1.0.0', api: 1,
 *     layers: [{ type: 'mish', summary: 'x * tanh(softplus(x))', layerClass: (tf) => class ... }],
 *   } satisfies FerPlugin;
 *
 * docs/plugins.md is the guide.
 */
export const PLUGIN_API_VERSION = 1;

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

export interface FerPlugin {
  /** The namespace: lower_snake_case, unique among the plugins of a config. */
  name: string;
  version: string;
  /** The plugin API this plugin was written for (default 1). */
  api?: number;
  description?: string;
  layers?: PluginLayer[];
  /**
   * A YAML file, relative to the plugin's own file, holding `templates:` whose names all start
   * with `<plugin>/`; configs use them like their own (`use: se/conv_se_block`).
   */
  templates?: string;
}

/** Identity, for type checking in plain JavaScript plugins (`export default definePlugin({...})`). */
export function definePlugin(plugin: FerPlugin): FerPlugin {
  return plugin;
}
