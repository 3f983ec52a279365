import { accessSync, constants, statSync } from 'node:fs';
import { normalizeItem } from '../config/normalize.js';
import { DataError } from '../core/data-error.js';
import { entryOf } from '../core/item-spec.js';
import type { FerRegistry } from '../registry/index.js';

/**
 * What `fer validate` can tell about the data without reading it: whether the file or folder a
 * source names is there and readable. Rows are read only by `fer run`, so a found file is reported
 * as found, not as valid.
 */
export type DataPresence =
  | { state: 'found'; what: 'file' | 'folder' }
  /** The source names no file fer can look at beforehand (synthetic data is generated). */
  | { state: 'nothing to check' }
  | { state: 'missing'; problem: string; hint?: string };

export function checkDataPresence(source: Readonly<Record<string, unknown>>, registry: FerRegistry): DataPresence {
  const { name, args } = entryOf(normalizeItem(registry, 'source', source));
  const definition = registry.sources.get(name);
  if (definition?.fingerprint === undefined) return { state: 'nothing to check' };
  try {
    definition.fingerprint(args as never);
  } catch (error) {
    if (!(error instanceof DataError)) throw error;
    return { state: 'missing', problem: error.message, ...(error.hint ? { hint: error.hint } : {}) };
  }
  const file = (args as { path?: unknown }).path;
  if (typeof file !== 'string') return { state: 'found', what: 'file' };
  const folder = statSync(file).isDirectory();
  try {
    accessSync(file, folder ? constants.R_OK | constants.X_OK : constants.R_OK);
  } catch (error) {
    return { state: 'missing', problem: `cannot read the data ${folder ? 'folder' : 'file'} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
  }
  return { state: 'found', what: folder ? 'folder' : 'file' };
}
