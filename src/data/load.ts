import { mergeClasses } from './merge-classes.js';
import path from 'node:path';
import type { DataConfig } from '../config/types.js';
import { FER2013_CLASSES } from '../schema/sections.js';
import { silentProgress, type Progress } from '../core/progress.js';
import { deriveSeed } from '../core/seed.js';
import { cacheFile, cacheKey, fileFingerprint, folderFingerprint, readCache, writeCache } from './cache.js';
import { contentDigest, DataError, type Dataset, type ImageShape } from './dataset.js';
import { readCsvSource } from './sources/csv.js';
import { readFolderSource } from './sources/folder.js';
import { compactSplits, type SourceRows } from './sources/source-rows.js';
import { readSyntheticSource } from './sources/synthetic.js';

export interface LoadDataOptions {
  data: DataConfig;
  /** The experiment seed (the synthetic source draws from it). */
  seed: number;
  /** false: neither read nor write the cache. */
  cache?: boolean;
  progress?: Progress;
}

export interface LoadedData {
  dataset: Dataset;
  /** Whether the dataset came from the cache. */
  cached: boolean;
  seconds: number;
  cacheFile?: string;
}

type CsvOptions = { path: string; label_column: string; pixels_column: string; split_column: string | null; splits: string[] };

/** The csv source with defaults filled in (a bare path in the config skips the schema defaults). */
export function csvOptions(source: NonNullable<DataConfig['source']['csv']>): CsvOptions {
  const given = typeof source === 'string' ? { path: source } : source;
  return {
    label_column: 'emotion',
    pixels_column: 'pixels',
    split_column: 'Usage',
    splits: ['Training', 'PublicTest', 'PrivateTest'],
    ...given,
  };
}

function finish(rows: SourceRows, classes: string[], image: ImageShape, source: string): Dataset {
  const compact = compactSplits(rows);
  return { ...compact, classes, image, source, digest: contentDigest({ ...compact, classes, image }) };
}

/**
 * Loads the dataset a data section describes: from the cache when the source is unchanged,
 * otherwise from the source (and then caches it). The synthetic source is generated every time
 * (it is small and its only input is the seed).
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
  const progress = options.progress ?? silentProgress;
  const classes = data.classes ?? FER2013_CLASSES;
  const image: ImageShape = data.image;
  const elapsed = () => (performance.now() - started) / 1000;

  if (data.source.synthetic) {
    const s = data.source.synthetic;
    const rows = readSyntheticSource({
      rowsPerClass: s.rows_per_class,
      splits: s.splits,
      noise: s.noise,
      classes,
      image,
      seed: deriveSeed(options.seed, 'data', 'synthetic'),
    });
    return { dataset: finish(rows, classes, image, 'synthetic'), cached: false, seconds: elapsed() };
  }

  let key: string;
  let read: () => Promise<SourceRows>;
  let source: string;
  let task: string;
  if (data.source.csv) {
    const csv = csvOptions(data.source.csv);
    source = `csv ${csv.path}`;
    task = `reading ${path.basename(csv.path)}`;
    let fingerprint: ReturnType<typeof fileFingerprint>;
    try {
      fingerprint = fileFingerprint(csv.path);
    } catch {
      throw new DataError(
        `data file not found: ${csv.path}`,
        undefined,
        'FER2013 is the Kaggle "Challenges in Representation Learning: Facial Expression Recognition" CSV; point data.source.csv at it, or set FER_DATA to its folder',
      );
    }
    key = cacheKey({ kind: 'csv', csv, classes, image, fingerprint });
    read = () =>
      readCsvSource({
        path: csv.path,
        labelColumn: csv.label_column,
        pixelsColumn: csv.pixels_column,
        splitColumn: csv.split_column,
        allowedSplits: csv.splits,
        classes,
        image,
        onProgress: (bytes, total, rows) => progress.update(task, bytes / total, `${rows.toLocaleString('en-US')} rows`),
      });
  } else if (data.source.folder) {
    const folder = typeof data.source.folder === 'string' ? data.source.folder : data.source.folder.path;
    source = `folder ${folder}`;
    task = `reading ${folder}`;
    let fingerprint: string;
    try {
      fingerprint = folderFingerprint(folder);
    } catch {
      throw new DataError(`data folder not found: ${folder}`, undefined, 'data.source.folder takes a folder laid out as <split>/<class name>/*.png|jpg');
    }
    key = cacheKey({ kind: 'folder', folder, classes, image, fingerprint });
    read = async () =>
      readFolderSource({ path: folder, classes, image, onProgress: (done, total) => progress.update(task, done / total, `${done} images`) });
  } else {
    throw new DataError('data.source names no source (csv, folder or synthetic)');
  }

  const file = cacheFile(data.cache, key);
  if (options.cache !== false) {
    const cached = readCache(file, key);
    if (cached) return { dataset: cached, cached: true, seconds: elapsed(), cacheFile: file };
  }
  const rows = await read();
  const dataset = finish(rows, classes, image, source);
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
