import { loadConfig, type LoadedConfig, type LoadOptions } from '../config/load.js';
import { ConfigError } from '../diagnostics/diagnostic.js';
import { didYouMean, listChoices } from '../diagnostics/suggest.js';
import { loadTf } from '../engine/tf.js';
import { compileModels, type CompiledModel } from './model-builder.js';

/**
 * Loads a config and builds the requested models (all by default). This is what `validate` and
 * `compile` share: everything short of training, so shape errors are found before any data is read.
 */
export async function loadAndCompile(
  file: string,
  options: LoadOptions & { models?: readonly string[]; initialize?: boolean } = {},
): Promise<{ loaded: LoadedConfig; models: CompiledModel[] }> {
  const loaded = loadConfig(file, options);
  const available = Object.keys(loaded.config.models);
  for (const name of options.models ?? []) {
    if (available.includes(name)) continue;
    const hint = didYouMean(name, available);
    throw new ConfigError([
      {
        severity: 'error',
        code: 'unknown-model',
        message: `${file} has no model named \`${name}\``,
        expected: available.length > 0 ? `one of ${listChoices(available)}` : 'a model under `models:` (this config has none)',
        ...(hint ? { hint } : {}),
      },
    ]);
  }
  const names = options.models && options.models.length > 0 ? options.models : available;
  const tf = await loadTf();
  const models = compileModels(loaded, names, { tf, initialize: options.initialize ?? false });
  return { loaded, models };
}
