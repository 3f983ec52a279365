import { templatesUsedBy } from '../config/check.js';
import { displayPath } from '../core/document-path.js';
import type { LoadedConfig } from '../config/load.js';
import { readConfigWithPlugins, type PluginReadOptions } from '../config/read.js';
import { ConfigError, isConfigError, sortDiagnostics, type Diagnostic } from '../core/diagnostic.js';
import { didYouMean, listChoices } from '../core/suggest.js';
import { loadTf } from '../backend/load-tf.js';
import { compileModels, type CompiledModel } from './model-builder.js';

/** True when a diagnostic is about `path` or something inside it. */
function within(diagnostic: Diagnostic, path: readonly (string | number)[]): boolean {
  const prefix = displayPath(path);
  const at = diagnostic.path ?? '';
  return at === prefix || at.startsWith(`${prefix}.`) || at.startsWith(`${prefix}[`);
}

/**
 * Loads a config and builds the requested models (all by default). This is what `validate` and
 * `compile` share: everything short of training, so shape errors are found before any data is read.
 * When the config has errors, the models untouched by them are still built, so that one run
 * reports the shape errors too: all the problems of a file at once.
 */
export async function loadAndCompile(
  file: string,
  options: PluginReadOptions & { models?: readonly string[]; initialize?: boolean } = {},
): Promise<{ loaded: LoadedConfig; models: CompiledModel[]; unchecked: string[]; warnings: Diagnostic[] }> {
  const { loaded, diagnostics, sources } = await readConfigWithPlugins(file, options);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const fail = (extra: readonly Diagnostic[] = []): never => {
    throw new ConfigError(sortDiagnostics([...diagnostics, ...extra]), sources);
  };
  if (loaded === undefined) return fail();
  const available = Object.keys(loaded.config.models);
  for (const name of options.models ?? []) {
    if (available.includes(name)) continue;
    const hint = didYouMean(name, available);
    fail([
      {
        severity: 'error',
        code: 'unknown-model',
        message: `${file} has no model named \`${name}\``,
        expected: available.length > 0 ? `one of ${listChoices(available)}` : 'a model under `models:` (this config has none)',
        ...(hint ? { hint } : {}),
      },
    ]);
  }
  const requested = options.models && options.models.length > 0 ? options.models : available;
  // The data section sets the input shape and the number of classes of every model.
  if (errors.some((d) => within(d, ['data']))) return fail();
  // A model using a plugin's names that were not loaded (--no-plugins) cannot be built: unchecked.
  const unchecked = requested.filter((name) => diagnostics.some((d) => d.code === 'plugin' && d.severity === 'warning' && within(d, ['models', name])));
  const sound = requested.filter(
    (name) =>
      !unchecked.includes(name) &&
      !errors.some((d) => within(d, ['models', name])) &&
      ![...templatesUsedBy(loaded.config, name)].some((t) => errors.some((d) => within(d, ['templates', t]))),
  );
  const tf = await loadTf();
  let models: CompiledModel[] = [];
  try {
    models = compileModels(loaded, sound, { tf, initialize: options.initialize ?? false });
  } catch (error) {
    if (!isConfigError(error)) throw error;
    return fail(error.diagnostics);
  }
  if (errors.length > 0) {
    for (const m of models) m.model.dispose();
    return fail();
  }
  return { loaded, models, unchecked, warnings: diagnostics.filter((d) => d.severity === 'warning') };
}
