import type { FerRegistry } from '../registry/index.js';
import type { LoadedConfig } from './load.js';
import { locate, locatedFromJson, locatedToJson, type LocatedJson } from './located.js';
import type { FerConfig } from './types.js';

/**
 * A loaded config as plain JSON, for a process that must work on exactly the config another one
 * read and validated (run workers): the resolved config itself, plus what an error needs to point
 * into the files it came from (their texts as they were read, and every value's position). The
 * receiver reads nothing from disk, so a file edited meanwhile changes nothing for it. The
 * registry is not in it: it holds plugin code, which the receiver loads and checks itself.
 */
export interface ResolvedConfig {
  file: string;
  config: FerConfig;
  files: string[];
  /** Texts of the sources (files and `<command line>`), for code frames. */
  sources: [string, string][];
  tree: LocatedJson;
}

export function resolvedConfig(loaded: LoadedConfig): ResolvedConfig {
  return { file: loaded.file, config: loaded.config, files: [...loaded.files], sources: [...loaded.sources], tree: locatedToJson(loaded.tree) };
}

/** The LoadedConfig the sender had, with this registry (which must hold the plugins the config names). */
export function loadedFromResolved(resolved: ResolvedConfig, registry: FerRegistry): LoadedConfig {
  const tree = locatedFromJson(resolved.tree);
  return {
    file: resolved.file,
    config: resolved.config,
    files: resolved.files,
    sources: new Map(resolved.sources),
    registry,
    tree,
    locate: (path) => locate(tree, path),
  };
}
