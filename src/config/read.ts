import path from 'node:path';
import { readConfig, type LoadedConfig, type LoadOptions, type ReadResult } from './load.js';
import { ConfigError, type Diagnostic } from '../core/diagnostic.js';
import { downloadModel } from './remote-models.js';
import { createRegistry, type FerRegistry } from '../registry/index.js';
import { fileDigest, importPlugin, PluginChangedError, PluginError, registerPlugin } from '../plugins/loader.js';

/**
 * Reading a config that may name plugins. Plugins add layers and templates the schema must know,
 * so a first reading finds the `plugins:` list (its diagnostics are set aside: they may be about
 * plugin layers not yet known), the plugins are imported and registered, and the config is read
 * again against that registry, with the plugins' template libraries merged under it. A problem
 * with a plugin is reported at its line in `plugins:`.
 */
export interface PluginReadOptions extends LoadOptions {
  /** false: plugin code is not imported (`fer validate --no-plugins`); names only plugins give are reported as unchecked. */
  plugins?: boolean;
}

/** `se/squeeze_excite`, `se/conv_se_block`: plugin contributions are namespaced by the plugin's name. */
const PLUGIN_NAME = /`[A-Za-z0-9_.-]+\/[A-Za-z0-9_./-]+`/;

export async function readConfigWithPlugins(file: string, options: PluginReadOptions = {}): Promise<ReadResult> {
  const result = await readWithPlugins(file, options);
  await fetchRemoteModels(result);
  return result;
}

/** Models whose initial weights are at a URL are downloaded before compiling, which reads files only. */
async function fetchRemoteModels(result: ReadResult): Promise<void> {
  for (const [name, model] of Object.entries(result.loaded?.config.models ?? {})) {
    const url = model?.init?.model;
    if (typeof url !== 'string' || !/^https?:\/\//.test(url)) continue;
    try {
      await downloadModel(url);
    } catch (error) {
      result.diagnostics.push({
        severity: 'error',
        code: 'reference',
        message: `models.${name}.init.model: ${(error as Error).message.replace(/^init\.model: /, '')}`,
        span: result.loaded!.locate(['models', name, 'init', 'model']).span,
        path: `models.${name}.init.model`,
        hint: 'check the URL (it must serve model.json and the weight files beside it), or download them and give the path',
      });
    }
  }
}

async function readWithPlugins(file: string, options: PluginReadOptions): Promise<ReadResult> {
  const first = readConfig(file, { ...options, registry: createRegistry() });
  const specs = first.loaded?.config.plugins;
  if (!first.loaded || !Array.isArray(specs) || specs.length === 0 || !specs.every((s) => typeof s === 'string')) return first;
  if (options.plugins === false) {
    // Without their code, the names plugins give cannot be checked: said so, as warnings, and
    // everything else is checked as usual.
    const diagnostics = first.diagnostics.map((d) =>
      d.severity === 'error' && PLUGIN_NAME.test(d.message)
        ? { ...d, severity: 'warning' as const, code: 'plugin' as const, message: `${d.message}: unchecked, plugins not loaded (--no-plugins)` }
        : d,
    );
    return { ...first, diagnostics };
  }
  const cwd = options.cwd ?? process.cwd();
  const { registry, diagnostics } = await pluginRegistry(specs, cwd, (i) => first.loaded!.locate(['plugins', i]).span);
  if (diagnostics.length > 0) return { diagnostics, sources: first.sources };
  const templates = registry.plugins.flatMap((p) => (p.templates ? [p.templates] : []));
  return readConfig(file, { ...options, registry, prelude: templates });
}

export async function loadConfigWithPlugins(file: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  const { loaded, diagnostics, sources } = await readConfigWithPlugins(file, options);
  if (loaded === undefined || diagnostics.some((d) => d.severity === 'error')) throw new ConfigError(diagnostics, sources);
  return loaded;
}

/** A registry with fer's entries and these plugins'; problems as diagnostics at `span(i)`. */
export async function pluginRegistry(
  specs: readonly string[],
  cwd: string,
  span?: (index: number) => Diagnostic['span'],
): Promise<{ registry: FerRegistry; diagnostics: Diagnostic[] }> {
  const registry = createRegistry();
  const diagnostics: Diagnostic[] = [];
  for (const [i, spec] of specs.entries()) {
    const at = span?.(i);
    const fromDir = at && path.isAbsolute(at.file) ? path.dirname(at.file) : cwd;
    try {
      registerPlugin(registry, await importPlugin(spec, fromDir, cwd));
    } catch (error) {
      if (!(error instanceof PluginError)) throw error;
      diagnostics.push({
        severity: 'error',
        code: 'plugin',
        message: error.message,
        ...(at ? { span: at } : {}),
        path: `plugins[${i}]`,
        ...(error.hint ? { hint: error.hint } : {}),
      });
    }
  }
  return { registry, diagnostics };
}

/** A plugin as a run recorded it: as written in the config, the file imported, and that file's SHA-256. */
export interface PluginFile {
  spec: string;
  source: string;
  digest?: string;
}

/**
 * A registry with the plugins a run recorded, imported from the files it recorded (not resolved
 * again from their specs). With `verify`, each file must still be the one recorded, before the
 * import and after it: a plugin is code that shapes the model, so an edited one is refused with a
 * PluginChangedError rather than trained under the identity of the code the run started with.
 * A plugin that fails to load throws its PluginError.
 */
export async function registryFromPluginFiles(plugins: readonly PluginFile[], cwd: string, options: { verify: boolean }): Promise<FerRegistry> {
  const registry = createRegistry();
  for (const recorded of plugins) {
    const check = () => {
      if (!options.verify || recorded.digest === undefined) return;
      const found = fileDigest(recorded.source);
      if (found !== recorded.digest) throw new PluginChangedError(recorded.spec, recorded.source, recorded.digest, found);
    };
    check();
    const loaded = await importPlugin(recorded.source, path.dirname(recorded.source), cwd);
    check();
    registerPlugin(registry, { ...loaded, spec: recorded.spec });
  }
  return registry;
}
