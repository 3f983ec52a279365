import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { DataError } from '../../core/data-error.js';
import { imageSize, type ImageShape } from '../../core/image.js';
import { closestMatches } from '../../core/suggest.js';
import { args, PathString } from '../schema-helpers.js';
import { decodeImage, storeImage } from './image-decode.js';
import { ByteBuilder, folderFingerprint, type SourceRows } from './rows.js';
import { defineSource } from './source.js';

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
    throw new DataError(`data folder not found: ${root}`, undefined, LAYOUT);
  }
  if (!isFolder) throw new DataError(`${root} is a file; data.source.folder takes a folder (use data.source.csv for a CSV file)`);
  const classIndex = new Map(options.classes.map((c, i) => [c.toLowerCase(), i]));
  const entries: { split: string; label: number; file: string }[] = [];
  const unread: string[] = [];
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
      const files = readdirSync(folder, { withFileTypes: true }).filter((e) => e.isFile() && !e.name.startsWith('.'));
      const images = files.filter((e) => IMAGE.test(e.name)).map((e) => e.name).sort();
      // A class with no images would train silently without that class in this split.
      if (images.length === 0) {
        throw new DataError('the class folder holds no .png or .jpg images', { file: folder }, 'add its images, or remove the folder if the split has none of this class');
      }
      for (const name of images) entries.push({ split, label, file: path.join(folder, name) });
      unread.push(...files.filter((e) => !IMAGE.test(e.name)).map((e) => path.join(folder, e.name)));
    }
  }
  // Files fer cannot decode are named, not skipped: a folder of .webp faces would otherwise shrink unnoticed.
  if (unread.length > 0) {
    const kinds = [...new Set(unread.map((f) => path.extname(f).toLowerCase() || 'no extension'))];
    throw new DataError(
      `${unread.length} file${unread.length === 1 ? '' : 's'} under ${root} ${unread.length === 1 ? 'is' : 'are'} not PNG or JPEG (${kinds.join(', ')}), and fer reads only those`,
      { file: unread.sort()[0]! },
      'convert them to PNG (e.g. `mogrify -format png *.webp`) or move them out of the class folders',
    );
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

const LAYOUT = 'data.source.folder takes a folder laid out as <split>/<class name>/*.png|jpg';

/** `folder: faces/` or `folder: {path: faces/}`: images in split and class folders. */
export const folderSource = defineSource({
  type: 'folder',
  summary: 'PNG or JPEG images laid out as <split>/<class name>/*.png|jpg (class folders matched to data.classes).',
  shorthand: 'path',
  args: args({ path: PathString({ description: 'a folder laid out as <split>/<class name>/*.png|jpg' }) }, { title: 'folder source' }),
  describe: (a) => ({ source: `folder ${a.path}`, task: `reading ${a.path}` }),
  fingerprint: (a) => {
    try {
      return folderFingerprint(a.path);
    } catch {
      throw new DataError(`data folder not found: ${a.path}`, undefined, LAYOUT);
    }
  },
  read: (a, context) =>
    readFolderSource({
      path: a.path,
      classes: context.classes,
      image: context.image,
      onProgress: (done, total) => context.progress(done / total, `${done} images`),
    }),
});
