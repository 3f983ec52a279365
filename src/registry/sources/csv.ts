import { createReadStream, openSync, readSync, closeSync, statSync } from 'node:fs';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { Type } from '@sinclair/typebox';
import { DataError } from '../../core/data-error.js';
import { imageSize, type ImageShape } from '../../core/image.js';
import { didYouMean } from '../../core/suggest.js';
import { args, PathString } from '../schema-helpers.js';
import { ByteBuilder, fileFingerprint, type SourceRows } from './rows.js';
import { defineSource } from './source.js';

export interface CsvSourceOptions {
  path: string;
  labelColumn: string;
  pixelsColumn: string;
  /** null: the file has no split column and every row is in split `all`. */
  splitColumn: string | null;
  /** The values the split column may hold. */
  allowedSplits: readonly string[];
  classes: readonly string[];
  image: ImageShape;
  /** Called as the file is read: bytes of the file read so far and its size. */
  onProgress?: (bytesRead: number, totalBytes: number, rows: number) => void;
}

const NOT_FOUND_HINT =
  'FER2013 is the Kaggle "Challenges in Representation Learning: Facial Expression Recognition" CSV; point data.source.csv at it, or set FER_DATA to its folder';

const NEWLINE = 0x0a;
const RETURN = 0x0d;
const COMMA = 0x2c;
const QUOTE = 0x22;
const SPACE = 0x20;
const TAB = 0x09;

function isGzip(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const magic = Buffer.alloc(2);
    return readSync(fd, magic, 0, 2, 0) === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/** Splits a header line into column names (quotes allowed, as CSV writers produce). */
function headerColumns(line: string): string[] {
  const columns: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        current += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else current += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      columns.push(current.trim());
      current = '';
    } else current += ch;
  }
  columns.push(current.trim());
  return columns;
}

/**
 * A CSV is UTF-8 (or ASCII) text. UTF-16 (as some spreadsheet exports write) and binary files are
 * named as what they are from their first bytes, before a header error would print their bytes.
 */
function checkText(start: Buffer, file: string): void {
  if ((start[0] === 0xff && start[1] === 0xfe) || (start[0] === 0xfe && start[1] === 0xff)) {
    throw new DataError('the file is UTF-16 text; fer reads CSV files as UTF-8', { file }, 'save it as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8 in.csv > out.csv`, or "CSV UTF-8" in a spreadsheet)');
  }
  const nul = start.subarray(0, 4096).indexOf(0);
  if (nul >= 0) {
    throw new DataError(`the file is not a text file (a NUL byte at byte ${nul + 1}), so not a CSV`, { file }, 'data.source.csv takes a CSV text file (plain or gzip)');
  }
}

/**
 * Reads a FER2013-style CSV (`emotion,pixels,Usage`), plain or gzip, as a stream: the full file is
 * ~290 MB of text and is never held whole. Pixels are parsed byte by byte straight into the
 * dataset's Uint8Array. Any malformed row stops the load with its line number and what is wrong;
 * nothing is skipped silently.
 */
export function readCsvSource(options: CsvSourceOptions): Promise<SourceRows> {
  const file = options.path;
  let total: number;
  try {
    const stat = statSync(file);
    if (stat.isDirectory()) throw new DataError(`${file} is a folder; data.source.csv takes a CSV file (use data.source.folder for image folders)`);
    total = stat.size;
  } catch (error) {
    if (error instanceof DataError) return Promise.reject(error);
    return Promise.reject(
      new DataError(`data file not found: ${file}`, undefined, NOT_FOUND_HINT),
    );
  }
  const gzip = isGzip(file);
  const perImage = imageSize(options.image);
  const pixels = new ByteBuilder(gzip ? 1 << 24 : Math.max(1 << 16, Math.ceil(total / 3)));
  const labels = new ByteBuilder();
  const splits = new ByteBuilder();
  const splitNames = options.splitColumn === null ? ['all'] : [...options.allowedSplits];
  const splitIndex = new Map(splitNames.map((name, i) => [name, i]));

  let columns: { label: number; pixels: number; split: number; count: number } | undefined;
  let lineNumber = 0;
  let rows = 0;
  let leftover: Buffer | undefined;
  const where = (line = lineNumber) => ({ file, line });

  const parseHeader = (line: Buffer) => {
    const names = headerColumns(line.toString('utf8').replace(/^\uFEFF/, ''));
    // A file whose first line has no columns is not a CSV (a password file, a log): say so without
    // quoting it, since error messages end up in logs and issue reports.
    if (names.length < 2) {
      throw new DataError(
        'not a CSV file of images: its first line has no comma-separated columns',
        where(1),
        `data.source.csv takes a CSV whose first line names its columns (${options.labelColumn},${options.pixelsColumn}${options.splitColumn ? `,${options.splitColumn}` : ''})`,
      );
    }
    const find = (name: string, what: string) => {
      const index = names.indexOf(name);
      if (index < 0) {
        const hint = didYouMean(name, names);
        throw new DataError(
          `no ${what} column \`${name}\`: the header has ${names.map((n) => `\`${n}\``).join(', ')}`,
          where(1),
          hint ? `${hint} (set data.source.csv.${what === 'label' ? 'label_column' : what === 'pixels' ? 'pixels_column' : 'split_column'})` : undefined,
        );
      }
      return index;
    };
    columns = {
      label: find(options.labelColumn, 'label'),
      pixels: find(options.pixelsColumn, 'pixels'),
      split: options.splitColumn === null ? -1 : find(options.splitColumn, 'split'),
      count: names.length,
    };
  };

  const parseRow = (buf: Buffer, start: number, end: number) => {
    const cols = columns!;
    let labelValue = -1;
    let splitValue = 0;
    let pixelCount = 0;
    let field = 0;
    let i = start;
    const base = pixels.length;
    const out = pixels.reserve(perImage);
    for (;;) {
      let fieldStart = i;
      let fieldEnd: number;
      let next: number;
      if (buf[i] === QUOTE) {
        fieldStart = i + 1;
        let q = buf.indexOf(QUOTE, fieldStart);
        while (q >= 0 && q < end && buf[q + 1] === QUOTE) q = buf.indexOf(QUOTE, q + 2);
        if (q < 0 || q >= end) throw new DataError('a quoted field is not closed', where());
        fieldEnd = q;
        next = q + 1;
        if (next < end && buf[next] !== COMMA) throw new DataError('text after a closing quote', where());
      } else {
        const comma = buf.indexOf(COMMA, i);
        fieldEnd = comma < 0 || comma > end ? end : comma;
        next = fieldEnd;
      }
      if (field === cols.pixels) {
        let value = 0;
        let digits = 0;
        for (let p = fieldStart; p < fieldEnd; p++) {
          const c = buf[p]!;
          if (c >= 48 && c <= 57) {
            value = value * 10 + (c - 48);
            digits++;
          } else if (c === SPACE || c === TAB) {
            if (digits > 0) {
              if (value > 255) throw new DataError(`pixel ${pixelCount + 1} is ${value}, outside 0-255`, where());
              if (pixelCount < perImage) out[base + pixelCount] = value;
              pixelCount++;
              value = 0;
              digits = 0;
            }
          } else {
            throw new DataError(
              `unexpected ${JSON.stringify(String.fromCharCode(c))} in the pixels after value ${pixelCount}: pixels are 0-255 integers separated by spaces`,
              where(),
            );
          }
        }
        if (digits > 0) {
          if (value > 255) throw new DataError(`pixel ${pixelCount + 1} is ${value}, outside 0-255`, where());
          if (pixelCount < perImage) out[base + pixelCount] = value;
          pixelCount++;
        }
      } else if (field === cols.label) {
        const text = buf.toString('latin1', fieldStart, fieldEnd).trim();
        if (!/^\d+$/.test(text)) throw new DataError(`the label is ${JSON.stringify(text)}, not a class number`, where());
        labelValue = Number(text);
        if (labelValue >= options.classes.length) {
          throw new DataError(
            `label ${labelValue} is outside the ${options.classes.length} classes (0-${options.classes.length - 1}: ${options.classes.join(', ')})`,
            where(),
            'list every class of the data in data.classes, in label order',
          );
        }
      } else if (field === cols.split) {
        const text = buf.toString('utf8', fieldStart, fieldEnd).trim();
        const index = splitIndex.get(text);
        if (index === undefined) {
          const hint = didYouMean(text, splitNames);
          throw new DataError(
            `unknown ${options.splitColumn} value ${JSON.stringify(text)}: expected one of ${splitNames.join(', ')}`,
            where(),
            hint ?? 'list the split names the file uses in data.source.csv.splits',
          );
        }
        splitValue = index;
      }
      field++;
      if (next >= end) break;
      if (field >= cols.count) throw new DataError(`more than ${cols.count} columns, the header has ${cols.count}`, where());
      i = next + 1;
    }
    if (field !== cols.count) throw new DataError(`${field} columns, the header has ${cols.count}`, where());
    if (labelValue < 0) throw new DataError('the label is empty', where());
    if (pixelCount !== perImage) {
      const { height, width, channels } = options.image;
      throw new DataError(
        `${pixelCount} pixel values, expected ${perImage} (${height}x${width}x${channels})`,
        where(),
        pixelCount === height * width && channels === 3
          ? 'this data is grayscale: keep data.image.channels: 1 and add `to_rgb` to data.preprocess for 3-channel models'
          : 'set data.image to the size of the images in the file',
      );
    }
    pixels.length += perImage;
    labels.push(labelValue);
    splits.push(splitValue);
    rows++;
  };

  const parseLine = (buf: Buffer, start: number, end: number) => {
    lineNumber++;
    if (end > start && buf[end - 1] === RETURN) end--;
    if (end <= start) return; // blank line
    if (columns === undefined) parseHeader(buf.subarray(start, end));
    else parseRow(buf, start, end);
  };

  let textChecked = false;
  const consume = (chunk: Buffer) => {
    if (!textChecked) {
      textChecked = true;
      checkText(chunk, file);
    }
    let start = 0;
    if (leftover !== undefined) {
      const newline = chunk.indexOf(NEWLINE);
      if (newline < 0) {
        leftover = Buffer.concat([leftover, chunk]);
        return;
      }
      const line = Buffer.concat([leftover, chunk.subarray(0, newline)]);
      leftover = undefined;
      parseLine(line, 0, line.length);
      start = newline + 1;
    }
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, start);
      if (newline < 0) break;
      parseLine(chunk, start, newline);
      start = newline + 1;
    }
    if (start < chunk.length) leftover = Buffer.from(chunk.subarray(start));
  };

  return new Promise<SourceRows>((resolve, reject) => {
    const input = createReadStream(file, { highWaterMark: 1 << 20 });
    let bytesRead = 0;
    input.on('data', (chunk) => {
      bytesRead += chunk.length;
      options.onProgress?.(bytesRead, total, rows);
    });
    const stream = gzip ? input.pipe(createGunzip({ chunkSize: 1 << 20 })) : input;
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      input.destroy();
      if (error instanceof DataError) reject(error);
      else if ((error as NodeJS.ErrnoException).code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(String((error as Error).message))) {
        reject(new DataError(`the gzip stream ends early after line ${lineNumber}: the file is truncated`, { file }, 'download or copy the file again'));
      } else if ((error as NodeJS.ErrnoException).code === 'Z_DATA_ERROR') {
        reject(new DataError(`not a valid gzip file (${(error as Error).message})`, { file }));
      } else reject(new DataError(`cannot read the file: ${(error as Error).message}`, { file }));
    };
    input.on('error', fail);
    stream.on('error', fail);
    stream.on('data', (chunk: Buffer) => {
      if (failed) return;
      try {
        consume(chunk);
      } catch (error) {
        fail(error);
      }
    });
    stream.on('end', () => {
      if (failed) return;
      try {
        if (leftover !== undefined) parseLine(leftover, 0, leftover.length);
        if (columns === undefined) throw new DataError('the file is empty (no header line)', { file });
        if (rows === 0) throw new DataError('the file has a header but no rows', { file });
        resolve({ pixels: pixels.finish(), labels: labels.finish(), splits: splits.finish(), splitNames });
      } catch (error) {
        fail(error);
      }
    });
  });
}

/** `csv: file.csv` or `csv: {path: ..., label_column: ..., ...}`: FER2013 as Kaggle ships it, or any CSV laid out like it. */
export const csvSource = defineSource({
  type: 'csv',
  summary: 'A CSV with a label, a pixels and a split column (FER2013 as Kaggle ships it), plain or gzip; a bare path takes the defaults.',
  shorthand: 'path',
  args: args(
    {
      path: PathString({ description: 'the CSV file (`emotion,pixels,Usage` columns), plain or gzip' }),
      label_column: Type.String({ default: 'emotion', description: 'column holding the class index' }),
      pixels_column: Type.String({ default: 'pixels', description: 'column holding space-separated pixel values' }),
      split_column: Type.Union([Type.String(), Type.Null()], {
        default: 'Usage',
        description: 'column naming the split of each row (null: every row is in split `all`)',
      }),
      splits: Type.Array(Type.String({ minLength: 1 }), {
        default: ['Training', 'PublicTest', 'PrivateTest'],
        minItems: 1,
        description: 'the values the split column may hold (a row with another value is an error)',
      }),
    },
    { title: 'csv source' },
  ),
  describe: (a) => ({ source: `csv ${a.path}`, task: `reading ${path.basename(a.path)}` }),
  fingerprint: (a) => {
    try {
      return fileFingerprint(a.path);
    } catch {
      throw new DataError(`data file not found: ${a.path}`, undefined, NOT_FOUND_HINT);
    }
  },
  read: (a, context) =>
    readCsvSource({
      path: a.path,
      labelColumn: a.label_column,
      pixelsColumn: a.pixels_column,
      splitColumn: a.split_column,
      allowedSplits: a.splits,
      classes: context.classes,
      image: context.image,
      onProgress: (bytes, total, rows) => context.progress(bytes / total, `${rows.toLocaleString('en-US')} rows`),
    }),
});
