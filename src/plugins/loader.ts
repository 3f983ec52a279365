import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import type { FerRegistry } from '../registry/index.js';
import type { LayerDefinition } from '../registry/layer-definition.js';
import type { Tf } from '../core/tf.js';
import { RegistryError } from '../registry/registry.js';
import { packageRoot } from '../core/package.js';
import { PLUGIN_API_VERSION, type FerPlugin, type PluginLayer, type PluginLayerClass } from './api.js';
import { CONTRIBUTION_KINDS, contributionProblem, registerContributions } from './contributions.js';
import { FerError } from '../core/errors.js';

/**
 * Finding, importing and registering plugins. A spec is resolved like this:
 *   ./x.ts, ../x.js, /abs/x      a file (or folder with index.ts/index.js) relative to the config that names it
 *   plugins/<name>               the project's plugins/<name> (from the working folder), else the one shipped with fer
 *   anything else                an npm package, resolved from the config's folder
 * TypeScript files are compiled on import (tsx), so plugins need no build step.
 */
export class PluginError extends FerError {
  constructor(
    message: string,
    hint?: string,
  ) {
    super(message, hint);
    this.name = 'PluginError';
  }
}

/** A plugin file that is not the one a run loaded: edited (another SHA-256) or gone. */
export class PluginChangedError extends PluginError {
  constructor(
    readonly spec: string,
    readonly source: string,
    readonly expected: string,
    readonly found: string | undefined,
  ) {
    super(`plugin \`${spec}\` (${source}) ${found === undefined ? 'is gone' : 'was edited'} since the run loaded it (sha256 ${expected.slice(0, 12)} then, ${found === undefined ? 'no file' : found.slice(0, 12)} now)`);
    this.name = 'PluginChangedError';
  }
}

export interface LoadedPlugin {
  plugin: FerPlugin;
  /** As written in the config. */
  spec: string;
  /** The file imported. */
  source: string;
  /** SHA-256 of that file as it was just before the import: the code that shapes the model, part of a run's identity. */
  digest: string;
  /** The plugin's template library (YAML with a `templates:` map), if it has one. */
  templates?: string;
}

const NAME = /^[a-z][a-z0-9_]*$/;
const ENTRY_FILES = ['index.ts', 'index.mts', 'index.js', 'index.mjs'];

function entryOf(candidate: string): string | undefined {
  if (!existsSync(candidate)) {
    for (const ext of ['.ts', '.mts', '.js', '.mjs']) if (existsSync(candidate + ext)) return candidate + ext;
    return undefined;
  }
  if (statSync(candidate).isDirectory()) {
    const pkg = path.join(candidate, 'package.json');
    if (existsSync(pkg)) {
      const main = (JSON.parse(readFileSync(pkg, 'utf8')) as { main?: string }).main;
      if (main && existsSync(path.join(candidate, main))) return path.join(candidate, main);
    }
    for (const f of ENTRY_FILES) if (existsSync(path.join(candidate, f))) return path.join(candidate, f);
    return undefined;
  }
  return candidate;
}

/** The file a spec names, or a PluginError saying where it looked. */
export function resolvePlugin(spec: string, fromDir: string, cwd: string): string {
  if (spec.startsWith('.') || path.isAbsolute(spec)) {
    const target = path.resolve(fromDir, spec);
    const found = entryOf(target);
    if (!found) throw new PluginError(`plugin \`${spec}\` not found: no ${target}(.ts|.js) and no index.ts/index.js in it`, 'paths in `plugins:` are relative to the config file that lists them');
    return found;
  }
  if (spec.startsWith('plugins/')) {
    const places = [path.resolve(cwd, spec), path.join(packageRoot, spec)];
    for (const place of places) {
      const found = entryOf(place);
      if (found) return found;
    }
    throw new PluginError(`plugin \`${spec}\` not found in ${places.join(' or ')}`, `plugins fer ships: ${shippedPlugins().join(', ') || 'none'}`);
  }
  try {
    return createRequire(path.join(fromDir, 'noop.js')).resolve(spec);
  } catch {
    throw new PluginError(`plugin \`${spec}\` not found: it is not a path, not plugins/<name>, and no npm package of that name is installed`, `install it (npm install ${spec}) or write a path like ./${spec}.ts`);
  }
}

/** Names of the plugins shipped in fer's plugins/ folder. */
export function shippedPlugins(): string[] {
  const dir = path.join(packageRoot, 'plugins');
  if (!existsSync(dir)) return [];
  // Only folders with an entry file are plugins (not the README).
  return readdirSync(dir)
    .sort()
    .filter((d) => statSync(path.join(dir, d)).isDirectory() && entryOf(path.join(dir, d)) !== undefined)
    .map((d) => `plugins/${d}`);
}

/** SHA-256 (hex) of a file's bytes, or undefined when it cannot be read (gone, unreadable). */
export function fileDigest(file: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}

/** The plugins in a registry with what the loader recorded of each (every entry was put there by registerPlugin). */
export function loadedPlugins(registry: FerRegistry): LoadedPlugin[] {
  return registry.plugins as LoadedPlugin[];
}

/** Imports a plugin module and checks its export. */
export async function importPlugin(spec: string, fromDir: string, cwd: string): Promise<LoadedPlugin> {
  const source = resolvePlugin(spec, fromDir, cwd);
  const digest = fileDigest(source);
  if (digest === undefined) throw new PluginError(`plugin \`${spec}\`: cannot read ${source}`);
  let module: Record<string, unknown>;
  try {
    if (/\.[mc]?ts$/.test(source)) {
      const { tsImport } = (await import('tsx/esm/api')) as { tsImport: (file: string, parent: string) => Promise<Record<string, unknown>> };
      module = await tsImport(pathToFileURL(source).href, import.meta.url);
    } else {
      module = (await import(pathToFileURL(source).href)) as Record<string, unknown>;
    }
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new PluginError(`plugin \`${spec}\` (${source}) failed to load: ${message}`, 'run it alone to see the whole error: node --import tsx -e "import(process.argv[1])" <file>');
  }
  // tsx may wrap a default export once more when it compiles to CommonJS.
  let exported = (module.default ?? module.plugin) as unknown;
  if (exported && typeof exported === 'object' && 'default' in exported && !('name' in exported)) exported = (exported as { default: unknown }).default;
  const plugin = checkPlugin(exported, spec, source);
  const templatesFile = typeof (exported as { templates?: unknown }).templates === 'string' ? path.resolve(path.dirname(source), (exported as { templates: string }).templates) : undefined;
  if (templatesFile && !existsSync(templatesFile)) throw new PluginError(`plugin \`${plugin.name}\`: its templates file ${templatesFile} does not exist`);
  if (templatesFile) checkTemplates(plugin.name, templatesFile);
  return { plugin, spec, source, digest, ...(templatesFile ? { templates: templatesFile } : {}) };
}

function checkPlugin(value: unknown, spec: string, source: string): FerPlugin {
  const where = `plugin \`${spec}\` (${path.basename(source)})`;
  const shape = 'export default { name: "my_plugin", version: "1.0.0", layers: [...] }';
  if (!value || typeof value !== 'object') throw new PluginError(`${where} has no plugin object as its default export`, shape);
  const p = value as Partial<FerPlugin> & Record<string, unknown>;
  if (typeof p.name !== 'string' || !NAME.test(p.name)) throw new PluginError(`${where}: \`name\` must be lower_snake_case (it is the namespace of its layers), got ${JSON.stringify(p.name)}`, shape);
  if (typeof p.version !== 'string' || p.version === '') throw new PluginError(`${where}: \`version\` must be a string like "1.0.0"`, shape);
  if (p.api !== undefined && (typeof p.api !== 'number' || p.api > PLUGIN_API_VERSION)) {
    throw new PluginError(`${where} needs fer plugin API ${String(p.api)}; this fer has API ${PLUGIN_API_VERSION}`, 'update fer, or use a version of the plugin written for this API');
  }
  const known = new Set(['name', 'version', 'api', 'description', 'layers', 'templates', ...CONTRIBUTION_KINDS.map((k) => k.field)]);
  const unknown = Object.keys(p).filter((k) => !known.has(k));
  if (unknown.length > 0) throw new PluginError(`${where}: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `\`${k}\``).join(', ')}`, `a plugin object has ${[...known].join(', ')}`);
  if (p.layers !== undefined && !Array.isArray(p.layers)) throw new PluginError(`${where}: \`layers\` must be a list of layer definitions`);
  for (const [i, layer] of (p.layers ?? []).entries()) {
    const l = layer as Partial<PluginLayer>;
    const at = `${where}, layers[${i}]${typeof l?.type === 'string' ? ` (${l.type})` : ''}`;
    if (!l || typeof l !== 'object') throw new PluginError(`${at} is not an object`);
    if (typeof l.type !== 'string' || !NAME.test(l.type)) throw new PluginError(`${at}: \`type\` must be lower_snake_case, got ${JSON.stringify(l.type)}`);
    if (typeof l.summary !== 'string') throw new PluginError(`${at}: \`summary\` (one line of docs) is missing`);
    if (typeof l.layerClass !== 'function' && typeof l.build !== 'function') throw new PluginError(`${at} needs \`layerClass\` (tf) => class, or \`build\` (args, context) => layer`);
    if (l.args !== undefined && (typeof l.args !== 'object' || (l.args as { type?: unknown }).type !== 'object')) throw new PluginError(`${at}: \`args\` must be a JSON Schema of type object`);
  }
  const problem = contributionProblem(p, where);
  if (problem !== undefined) throw new PluginError(problem, 'docs/plugins.md lists what each kind of entry has');
  return p as FerPlugin;
}

function checkTemplates(pluginName: string, file: string): void {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new PluginError(`plugin \`${pluginName}\`: ${file} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const keys = doc && typeof doc === 'object' ? Object.keys(doc) : [];
  if (keys.some((k) => k !== 'templates')) throw new PluginError(`plugin \`${pluginName}\`: ${path.basename(file)} may hold only \`templates:\`, found ${keys.filter((k) => k !== 'templates').join(', ')}`);
  const names = Object.keys((doc as { templates?: object } | null)?.templates ?? {});
  const bad = names.filter((n) => !n.startsWith(`${pluginName}/`));
  if (bad.length > 0) throw new PluginError(`plugin \`${pluginName}\`: template${bad.length > 1 ? 's' : ''} ${bad.map((b) => `\`${b}\``).join(', ')} must be named \`${pluginName}/<name>\``, 'a plugin\'s templates live in its namespace, as its layers do');
}

/** Adds a plugin's layers and other entries to the registry under its namespace; a clash names both claimants. */
export function registerPlugin(registry: FerRegistry, loaded: LoadedPlugin): void {
  const { plugin } = loaded;
  const existing = registry.plugins.find((p) => p.plugin.name === plugin.name);
  if (existing) {
    throw new PluginError(`two plugins claim the name \`${plugin.name}\`: ${existing.source} and ${loaded.source}`, 'a plugin name is a namespace; rename one of them (its `name` field)');
  }
  try {
    for (const layer of plugin.layers ?? []) registry.layers.register(pluginLayerDefinition(plugin, layer));
    registerContributions(registry, plugin);
  } catch (error) {
    if (error instanceof RegistryError) throw new PluginError(error.message);
    throw error;
  }
  registry.plugins.push(loaded);
}

/** Per tfjs instance: the classes made for it, so each is defined and registered once. */
const classCache = new WeakMap<object, Map<PluginLayer, PluginLayerClass>>();
const classOwners = new WeakMap<object, Map<string, string>>();

function classFor(tf: Tf, plugin: FerPlugin, layer: PluginLayer): PluginLayerClass | undefined {
  if (!layer.layerClass) return undefined;
  let cache = classCache.get(tf);
  if (!cache) classCache.set(tf, (cache = new Map()));
  const cached = cache.get(layer);
  if (cached) return cached;
  const cls = layer.layerClass(tf);
  if (typeof cls !== 'function' || typeof cls.className !== 'string') {
    throw new PluginError(`plugin \`${plugin.name}\`: layerClass of \`${layer.type}\` must return a class with a static className`);
  }
  if (!cls.className.startsWith(`${plugin.name}.`)) {
    throw new PluginError(`plugin \`${plugin.name}\`: class ${cls.className} of layer \`${layer.type}\` must have a className starting with \`${plugin.name}.\``, `static className = '${plugin.name}.${cls.className}' keeps saved models of different plugins apart`);
  }
  let owners = classOwners.get(tf);
  if (!owners) classOwners.set(tf, (owners = new Map()));
  const owner = owners.get(cls.className);
  if (owner !== undefined && owner !== `${plugin.name}/${layer.type}`) throw new PluginError(`two layers claim the class name ${cls.className}: ${owner} and ${plugin.name}/${layer.type}`);
  owners.set(cls.className, `${plugin.name}/${layer.type}`);
  tf.serialization.registerClass(cls as never);
  cache.set(layer, cls);
  return cls;
}

/** Registers every plugin layer class with this tfjs, so saved models using them load. */
export function activatePlugins(tf: Tf, registry: FerRegistry): void {
  for (const { plugin } of loadedPlugins(registry)) for (const layer of plugin.layers ?? []) classFor(tf, plugin, layer);
}

function pluginLayerDefinition(plugin: FerPlugin, layer: PluginLayer): LayerDefinition {
  return {
    type: `${plugin.name}/${layer.type}`,
    summary: layer.summary,
    plugin: plugin.name,
    family: 'plugin',
    args: (layer.args ?? { type: 'object', properties: {}, additionalProperties: false }) as LayerDefinition['args'],
    ...(layer.checkInput ? { checkInput: (shapes, args) => layer.checkInput!(shapes, args as Record<string, unknown>) } : {}),
    build(args, context) {
      const cls = classFor(context.tf, plugin, layer);
      const plain = { ...((args ?? {}) as Record<string, unknown>) };
      if (layer.build) return layer.build(plain, { ...context, ...(cls ? { layerClass: cls } : {}) });
      // tfjs layers take their options in camelCase (and save them snake_case), so kernel_size in
      // YAML arrives as kernelSize, the same as when a saved model is loaded.
      const options = Object.fromEntries(Object.entries(plain).map(([k, v]) => [k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()), v]));
      return new cls!({ ...options, name: context.name, trainable: context.trainable, seed: context.seed('weights') });
    },
  };
}
