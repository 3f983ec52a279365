import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { closestMatches } from '../../core/suggest.js';
import { ByteBuilder, DataError, imageSize, type ImageShape } from '../dataset.js';
import { decodeImage, storeImage } from '../image-decode.js';
import type { SourceRows } from './source-rows.js';

const IMAGE = /\.(png|jpe?g)$/i;

export interface FolderSourceOptions {
  path: string;
  classes: readonly string[];
  image: ImageShape;
  onProgress?: (done: number, total: number) => void;
}

function listDirectories(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

/**
 * The other common FER2013 layout, `<root>/<split>/<class name>/*.png|jpg`: split folders in name
 * order, class folders matched to data.classes (case-insensitively), images in file-name order so
 * the row order, and with it the folds, is the same on every machine.
 */
export function folderListing(options: Pick<FolderSourceOptions, 'path' | 'classes'>): { split: string; label: number; file: string }[] {
  const root = options.path;
  let isFolder = false;
  try {
    isFolder = statSync(root).isDirectory();
  } catch {
    throw new DataError(`data folder not found: ${root}`, undefined, 'data.source.folder takes a folder laid out as <split>/<class name>/*.png|jpg');
  }
  if (!isFolder) throw new DataError(`${root} is a file; data.source.folder takes a folder (use data.source.csv for a CSV file)`);
  const classIndex = new Map(options.classes.map((c, i) => [c.toLowerCase(), i]));
  const entries: { split: string; label: number; file: string }[] = [];
  const splits = listDirectories(root);
  if (splits.length === 0) throw new DataError(`${root} holds no split folders`, undefined, 'expected <split>/<class name>/*.png|jpg, e.g. train/happy/0001.png');
  for (const split of splits) {
    for (const className of listDirectories(path.join(root, split))) {
      const label = classIndex.get(className.toLowerCase());
      if (label === undefined) {
        const close = closestMatches(className, options.classes);
        throw new DataError(
          `the class folder \`${className}\` is not one of data.classes (${options.classes.join(', ')})`,
          { file: path.join(root, split, className) },
          close.length > 0 ? `did you mean \`${close[0]}\`? (or add it to data.classes)` : 'add it to data.classes, in label order',
        );
      }
      const folder = path.join(root, split, className);
      for (const name of readdirSync(folder).filter((f) => IMAGE.test(f)).sort()) {
        entries.push({ split, label, file: path.join(folder, name) });
      }
    }
  }
  if (entries.length === 0) throw new DataError(`no .png or .jpg images under ${root}`);
  return entries;
}

export function readFolderSource(options: FolderSourceOptions): SourceRows {
  const entries = folderListing(options);
  const splitNames = [...new Set(entries.map((e) => e.split))];
  const splitIndex = new Map(splitNames.map((s, i) => [s, i]));
  const perImage = imageSize(options.image);
  const pixels = new ByteBuilder(entries.length * perImage);
  const labels = new Uint8Array(entries.length);
  const splits = new Uint8Array(entries.length);
  entries.forEach((entry, i) => {
    const out = pixels.reserve(perImage);
    storeImage(decodeImage(readFileSync(entry.file), entry.file), options.image, out, pixels.length, entry.file);
    pixels.length += perImage;
    labels[i] = entry.label;
    splits[i] = splitIndex.get(entry.split)!;
    if (i % 500 === 0) options.onProgress?.(i, entries.length);
  });
  return { pixels: pixels.finish(), labels, splits, splitNames };
}
