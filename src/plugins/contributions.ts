import type { FerRegistry } from '../registry/index.js';
import type { Definition, DefinitionWithArgs, Registry } from '../registry/registry.js';
import type { FerPlugin } from './api.js';

/**
 * The contributions of plugin API 2: every kind a config names besides layers and templates. Each
 * entry has the shape of fer's own entries of its kind; it is checked here (what a plugin author
 * could get wrong before anything runs) and registered under the plugin's namespace, where the
 * schema, normalisation and the code that runs the kind find it as they find fer's own.
 */
export interface ContributionKind {
  /** The field of the plugin object. */
  field: 'augmentations' | 'preprocessing' | 'schedules' | 'losses' | 'optimizers' | 'sources' | 'callbacks';
  /** Functions an entry must have. */
  required: readonly string[];
  /** Functions an entry may have. */
  optional: readonly string[];
  /** Other checks: a message when something is wrong. */
  check?: (entry: Record<string, unknown>) => string | undefined;
}

const STAGES = ['warp', 'tone', 'pixels', 'batch'];

export const CONTRIBUTION_KINDS: readonly ContributionKind[] = [
  {
    field: 'augmentations',
    required: ['build'],
    optional: ['check'],
    check: (e) => (typeof e.stage === 'string' && STAGES.includes(e.stage) ? undefined : `\`stage\` must be one of ${STAGES.join(', ')} (most augmentations are \`pixels\`)`),
  },
  { field: 'preprocessing', required: ['apply'], optional: ['fit', 'outputShape', 'checkInput'] },
  { field: 'schedules', required: ['build'], optional: [] },
  { field: 'losses', required: ['build'], optional: [] },
  { field: 'optimizers', required: ['build'], optional: ['buildNative'] },
  {
    field: 'sources',
    required: ['describe', 'read'],
    optional: ['fingerprint'],
    check: (e) => {
      if (e.shorthand === undefined) return undefined;
      const properties = (e.args as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
      return typeof e.shorthand === 'string' && e.shorthand in properties ? undefined : '`shorthand` must name one of its arguments';
    },
  },
  { field: 'callbacks', required: ['build'], optional: [] },
];

const NAME = /^[a-z][a-z0-9_]*$/;
const NO_ARGUMENTS = { type: 'object' as const, properties: {}, additionalProperties: false };

/** What is wrong with a plugin's API 2 contributions, as a message naming the entry; undefined when nothing is. */
export function contributionProblem(plugin: Record<string, unknown>, where: string): string | undefined {
  for (const kind of CONTRIBUTION_KINDS) {
    const list = plugin[kind.field];
    if (list === undefined) continue;
    if ((typeof plugin.api === 'number' ? plugin.api : 1) < 2) return `${where}: \`${kind.field}\` needs plugin API 2: add \`api: 2\``;
    if (!Array.isArray(list)) return `${where}: \`${kind.field}\` must be a list`;
    for (const [i, raw] of list.entries()) {
      const entry = raw as Record<string, unknown>;
      const at = `${where}, ${kind.field}[${i}]${typeof entry?.type === 'string' ? ` (${entry.type})` : ''}`;
      if (!entry || typeof entry !== 'object') return `${at} is not an object`;
      if (typeof entry.type !== 'string' || !NAME.test(entry.type)) return `${at}: \`type\` must be lower_snake_case, got ${JSON.stringify(entry.type)}`;
      if (typeof entry.summary !== 'string') return `${at}: \`summary\` (one line of docs) is missing`;
      if (entry.args !== undefined && (typeof entry.args !== 'object' || (entry.args as { type?: unknown }).type !== 'object')) return `${at}: \`args\` must be a JSON Schema of type object`;
      for (const name of kind.required) if (typeof entry[name] !== 'function') return `${at} needs \`${name}\` (a function)`;
      for (const name of kind.optional) if (entry[name] !== undefined && typeof entry[name] !== 'function') return `${at}: \`${name}\` must be a function`;
      const problem = kind.check?.(entry);
      if (problem !== undefined) return `${at}: ${problem}`;
    }
  }
  return undefined;
}

/** Registers a plugin's API 2 entries as `<plugin>/<type>`; a clash throws the registry's message. */
export function registerContributions(registry: FerRegistry, plugin: FerPlugin): void {
  for (const kind of CONTRIBUTION_KINDS) {
    const table = registry[kind.field] as unknown as Registry<Definition>;
    for (const entry of plugin[kind.field] ?? []) {
      const definition: DefinitionWithArgs = { ...entry, args: entry.args ?? (NO_ARGUMENTS as DefinitionWithArgs['args']), type: `${plugin.name}/${entry.type}`, plugin: plugin.name };
      table.register(definition);
    }
  }
}

/** The API 2 entries of a plugin in a registry, by kind: what `fer plugins list` shows. */
export function contributionsOf(registry: FerRegistry, pluginName: string): Record<string, { type: string; summary: string }[]> {
  const out: Record<string, { type: string; summary: string }[]> = {};
  for (const kind of CONTRIBUTION_KINDS) {
    const table = registry[kind.field] as unknown as Registry<Definition>;
    const entries = table.values().filter((d) => d.plugin === pluginName);
    if (entries.length > 0) out[kind.field] = entries.map((d) => ({ type: d.type, summary: d.summary }));
  }
  return out;
}

