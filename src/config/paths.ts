import path from 'node:path';
import type { DocumentPath } from '../core/document-path.js';

/**
 * The fields of a config that name files or folders on this machine. Reading a config resolves them
 * against the file that wrote them (load.ts); what a run shows of them is relative to the config
 * file again, and what identifies a run leaves them out (store/run-folder.ts), so neither depends on
 * where the checkout, the data or the cache sit.
 *   data    the data source (a CSV or an image folder): its content digest identifies it
 *   cache   where parsed data is kept: not what a run is
 *   init    where a model's initial weights come from (a run folder or a model.json, or a URL)
 */
export type PathKind = 'data' | 'cache' | 'init';

export interface PathField {
  field: DocumentPath;
  kind: PathKind;
  /** For `init`: the model it belongs to. */
  model?: string;
}

const FIXED: PathField[] = [
  { field: ['data', 'source', 'csv'], kind: 'data' },
  { field: ['data', 'source', 'csv', 'path'], kind: 'data' },
  { field: ['data', 'source', 'folder'], kind: 'data' },
  { field: ['data', 'source', 'folder', 'path'], kind: 'data' },
  { field: ['data', 'cache'], kind: 'cache' },
];

/** Every path field a config may hold (whether or not it is set). */
export function pathFields(config: unknown): PathField[] {
  const models = (config as { models?: unknown } | null)?.models;
  const names = models !== null && typeof models === 'object' ? Object.keys(models) : [];
  return [...FIXED, ...names.flatMap((model) => (['run', 'model'] as const).map((key): PathField => ({ field: ['models', model, 'init', key], kind: 'init', model })))];
}

export const isUrl = (text: string): boolean => /^https?:\/\//.test(text);

/**
 * A copy of a plain (JSON-like) config with each set path field's value replaced by
 * `replace(value, field)`; `undefined` leaves the field out. URLs are passed on like paths.
 */
export function mapPathFields<T>(config: T, replace: (value: string, field: PathField) => string | undefined): T {
  const copy = structuredClone(config);
  for (const field of pathFields(copy)) {
    let parent: unknown = copy;
    for (const segment of field.field.slice(0, -1)) {
      parent = typeof parent === 'object' && parent !== null ? (parent as Record<string, unknown>)[String(segment)] : undefined;
    }
    if (typeof parent !== 'object' || parent === null) continue;
    const key = String(field.field[field.field.length - 1]);
    const value = (parent as Record<string, unknown>)[key];
    if (typeof value !== 'string' || value === '') continue;
    const next = replace(value, field);
    if (next === undefined) delete (parent as Record<string, unknown>)[key];
    else (parent as Record<string, unknown>)[key] = next;
  }
  return copy;
}

/**
 * A config's path fields relative to the folder of its file, with `/` between segments, as a
 * config written there would spell them (URLs unchanged): what a run shows, the same on every
 * machine and in every checkout that lays the files out alike.
 */
export function pathsRelativeTo<T>(config: T, configFile: string): T {
  const base = path.dirname(configFile);
  return mapPathFields(config, (value) => (isUrl(value) || !path.isAbsolute(value) ? value : path.relative(base, value).split(path.sep).join('/') || '.'));
}
