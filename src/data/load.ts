import { mergeClasses } from './merge-classes.js';
import type { DataConfig } from '../config/types.js';
import { normalizeItem } from '../config/normalize.js';
import { DataError } from '../core/data-error.js';
import { entryOf } from '../core/item-spec.js';
import { silentProgress, type Progress } from '../core/progress.js';
import { deriveSeed } from '../core/seed.js';
import { builtinRegistry, type FerRegistry } from '../registry/index.js';
import { compactSplits, type SourceRows } from '../registry/sources/rows.js';
import { cacheFile, cacheKey, readCache, writeCache } from './cache.js';
import { contentDigest, type Dataset } from './dataset.js';
import type { ImageShape } from '../core/image.js';

/** A data section whose source may still be written as a config would (`{csv: data.csv}`). */
export type DataInput = Omit<DataConfig, 'source'> & { source: Record<string, unknown> };

export interface LoadDataOptions {
  data: DataInput;
  /** The experiment seed (the synthetic source draws from it). */
  seed: number;
  /** false: neither read nor write the cache. */
  cache?: boolean;
  progress?: Progress;
  /** Knows the data source (a plugin's, too); default: fer's own. */
  registry?: FerRegistry;
}

export interface LoadedData {
  dataset: Dataset;
  /** Whether the dataset came from the cache. */
  cached: boolean;
  seconds: number;
  cacheFile?: string;
}

/** The csv source's arguments, defaults filled in from its entry: for reading a CSV outside a data section (`fer predict`). */
export function csvOptions(source: string | Record<string, unknown>): { path: string; label_column: string; pixels_column: string; split_column: string | null; splits: string[] } {
  return entryOf(normalizeItem(builtinRegistry(), 'source', { csv: source as Record<string, unknown> })).args as ReturnType<typeof csvOptions>;
}

function finish(rows: SourceRows, classes: string[], image: ImageShape, source: string): Dataset {
  const compact = compactSplits(rows);
  return { ...compact, classes, image, source, digest: contentDigest({ ...compact, classes, image }) };
}

/**
 * Loads the dataset a data section describes: from the cache when the source is unchanged,
 * otherwise from the source (and then caches it). A source without a fingerprint (synthetic) is
 * generated every time (it is small and its only input is the seed).
 */
export async function loadDataset(options: LoadDataOptions): Promise<LoadedData> {
  const loaded = await loadSource(options);
  const merge = options.data.merge_classes;
  // The cache holds the source's labels; merging is cheap and done on every load.
  return merge ? { ...loaded, dataset: mergeClasses(loaded.dataset, merge) } : loaded;
}

async function loadSource(options: LoadDataOptions): Promise<LoadedData> {
  const started = performance.now();
  const { data } = options;
  const registry = options.registry ?? builtinRegistry();
  const progress = options.progress ?? silentProgress;
  const { classes, image } = data;
  const elapsed = () => (performance.now() - started) / 1000;

  let name: string;
  let args: Record<string, unknown>;
  try {
    ({ name, args } = entryOf(normalizeItem(registry, 'source', data.source)));
  } catch (error) {
    throw new DataError(`data.source: ${(error as Error).message}`, undefined, 'data.source names one source: csv, folder or synthetic (or a plugin\'s)');
  }
  const source = registry.sources.get(name)!;
  const { source: label, task } = source.describe(args as never);
  const read = () =>
    source.read(args as never, {
      classes,
      image,
      seed: deriveSeed(options.seed, 'data', name),
      progress: (fraction, detail) => progress.update(task, fraction, detail),
    });
  if (source.fingerprint === undefined) return { dataset: finish(await read(), classes, image, label), cached: false, seconds: elapsed() };

  const key = cacheKey({ kind: name, args, classes, image, fingerprint: source.fingerprint(args as never) });
  const file = cacheFile(data.cache, key);
  if (options.cache !== false) {
    const cached = readCache(file, key, (why) => progress.done('cache', `${why}: parsing the source again`));
    if (cached) return { dataset: cached, cached: true, seconds: elapsed(), cacheFile: file };
  }
  const rows = await read();
  const dataset = finish(rows, classes, image, label);
  progress.done(task, `${dataset.labels.length.toLocaleString('en-US')} rows in ${elapsed().toFixed(1)} s`);
  if (options.cache !== false) {
    try {
      writeCache(file, key, dataset);
    } catch (error) {
      // A read-only or full disk only costs the next run its head start.
      progress.done('cache', `not written (${(error as Error).message})`);
    }
  }
  return { dataset, cached: false, seconds: elapsed(), cacheFile: file };
}
