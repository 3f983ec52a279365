import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/core/data-error.js';
import { readCsvSource, type CsvSourceOptions } from '../../src/registry/sources/csv.js';
import { tempDir, writeCsv } from '../helpers/data.js';
import path from 'node:path';

const tiny = { height: 2, width: 2, channels: 1 };
const options = (file: string, extra: Partial<CsvSourceOptions> = {}): CsvSourceOptions => ({
  path: file,
  labelColumn: 'emotion',
  pixelsColumn: 'pixels',
  splitColumn: 'Usage',
  allowedSplits: ['Training', 'PublicTest', 'PrivateTest'],
  classes: ['a', 'b', 'c'],
  image: tiny,
  ...extra,
});

async function failure(file: string, extra: Partial<CsvSourceOptions> = {}): Promise<DataError> {
  try {
    await readCsvSource(options(file, extra));
  } catch (error) {
    expect(error).toBeInstanceOf(DataError);
    return error as DataError;
  }
  throw new Error('expected a DataError');
}

describe('CSV source', () => {
  it('reads rows, labels and splits, plain and gzip alike', async () => {
    const rows = [
      [0, '1 2 3 4', 'Training'],
      [2, '255 0 10 200', 'PublicTest'],
      [1, '5 6 7 8', 'Training'],
    ] as const;
    for (const gzip of [false, true]) {
      const read = await readCsvSource(options(writeCsv(rows, { gzip })));
      expect(Array.from(read.pixels)).toEqual([1, 2, 3, 4, 255, 0, 10, 200, 5, 6, 7, 8]);
      expect(Array.from(read.labels)).toEqual([0, 2, 1]);
      expect(read.splitNames.slice(0, 2)).toEqual(['Training', 'PublicTest']);
      expect(Array.from(read.splits)).toEqual([0, 1, 0]);
    }
  });

  it('accepts quoted fields, CRLF line ends, a BOM, extra spaces and other column orders', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'q.csv');
    writeFileSync(file, '\uFEFFUsage,"pixels",emotion\r\n"Training","  1  2 3 4 ",2\r\nPublicTest,9 9 9 9,0\r\n\r\n');
    const read = await readCsvSource(options(file));
    expect(Array.from(read.pixels)).toEqual([1, 2, 3, 4, 9, 9, 9, 9]);
    expect(Array.from(read.labels)).toEqual([2, 0]);
  });

  it('reads a file without a split column into split `all`', async () => {
    const file = writeCsv([[0, '1 2 3 4', 'x']], { header: 'emotion,pixels,comment' });
    const read = await readCsvSource(options(file, { splitColumn: null }));
    expect(read.splitNames).toEqual(['all']);
  });

  it.each([
    ['a wrong pixel count', [[0, '1 2 3', 'Training']], 'data.csv:2: 3 pixel values, expected 4 (2x2x1)'],
    ['a pixel above 255', [[0, '1 2 256 4', 'Training']], 'data.csv:2: pixel 3 is 256, outside 0-255'],
    ['a character in the pixels', [[0, '1 2 x 4', 'Training']], 'unexpected "x" in the pixels after value 2'],
    ['a label outside the classes', [[0, '1 2 3 4', 'Training'], [3, '1 2 3 4', 'Training']], 'data.csv:3: label 3 is outside the 3 classes (0-2: a, b, c)'],
    ['a label that is not a number', [[0, '1 2 3 4', 'Training']], ''],
    ['an unknown Usage value', [[0, '1 2 3 4', 'Trainig']], 'data.csv:2: unknown Usage value "Trainig"'],
  ] as const)('stops at %s, naming the line', async (_, rows, message) => {
    if (message === '') {
      const file = writeCsv([]);
      writeFileSync(file, 'emotion,pixels,Usage\nhappy,1 2 3 4,Training\n');
      expect((await failure(file)).message).toContain('data.csv:2: the label is "happy", not a class number');
      return;
    }
    const error = await failure(writeCsv(rows));
    expect(error.message).toContain(message);
    if (message.includes('Trainig')) expect(error.hint).toBe('did you mean `Training`?');
  });

  it('says which columns the header has when one is missing', async () => {
    const error = await failure(writeCsv([[0, '1 2 3 4', 'Training']], { header: 'emotion,pixel,Usage' }));
    expect(error.message).toContain('no pixels column `pixels`: the header has `emotion`, `pixel`, `Usage`');
    expect(error.hint).toContain('did you mean `pixel`?');
  });

  it('reports a truncated gzip file', async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => [i % 3, '1 2 3 4', 'Training'] as const);
    const file = writeCsv(rows, { gzip: true });
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 40));
    const error = await failure(file);
    expect(error.message).toMatch(/the gzip stream ends early after line \d+: the file is truncated/);
  });

  it('reports a missing file with where to get the data, and an empty one', async () => {
    const missing = await failure('/nowhere/fer2013.csv');
    expect(missing.message).toBe('data file not found: /nowhere/fer2013.csv');
    expect(missing.hint).toContain('FER_DATA');
    const empty = path.join(tempDir(), 'empty.csv');
    writeFileSync(empty, '');
    expect((await failure(empty)).message).toContain('the file is empty');
  });
});
