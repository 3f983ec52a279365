import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/core/data-error.js';
import { readCsvSource, type CsvSourceOptions } from '../../src/registry/sources/csv.js';
import { folderListing } from '../../src/registry/sources/folder.js';
import { rgbPng, tempDir } from '../helpers/data.js';

const options = (file: string): CsvSourceOptions => ({
  path: file,
  labelColumn: 'emotion',
  pixelsColumn: 'pixels',
  splitColumn: 'Usage',
  allowedSplits: ['Training'],
  classes: ['a', 'b'],
  image: { height: 2, width: 2, channels: 1 },
});

async function csvFailure(bytes: Buffer): Promise<DataError> {
  const file = path.join(tempDir('fer-odd-csv-'), 'data.csv');
  writeFileSync(file, bytes);
  const error = await readCsvSource(options(file)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DataError);
  expect((error as DataError).message.startsWith(`${file}:`)).toBe(true);
  return error as DataError;
}

describe('odd files given as data', () => {
  it('names a UTF-16 CSV as UTF-16 instead of printing its bytes', async () => {
    const error = await csvFailure(Buffer.from('\uFEFFemotion,pixels,Usage\n0,1 2 3 4,Training\n', 'utf16le'));
    expect(error.message).toContain('UTF-16');
    expect([...error.message].some((c) => c === '\u0000' || c === '\uFFFD')).toBe(false);
    expect(error.hint).toContain('UTF-8');
  });

  it('names a binary file given as CSV as not text, without quoting it', async () => {
    const error = await csvFailure(rgbPng(4, 4));
    expect(error.message).toMatch(/is not a text file \(a NUL byte at byte \d+\)/);
    expect([...error.message].some((c) => c.charCodeAt(0) < 9 || c === '\uFFFD')).toBe(false);
  });

  it('does not quote the first line of a file that is not a CSV (a password file, say)', async () => {
    const error = await csvFailure(Buffer.from('root:$6$secretsalt$hashhash:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n'));
    expect(error.message).not.toContain('secretsalt');
    expect(error.message).toContain('not a CSV file');
  });

  it('refuses an empty class folder and names it', () => {
    const root = tempDir('fer-odd-folder-');
    mkdirSync(path.join(root, 'train', 'a'), { recursive: true });
    mkdirSync(path.join(root, 'train', 'b'), { recursive: true });
    writeFileSync(path.join(root, 'train', 'a', '1.png'), rgbPng(2, 2));
    expect(() => folderListing({ path: root, classes: ['a', 'b'] })).toThrow(`${path.join(root, 'train', 'b')}: the class folder holds no .png or .jpg images`);
  });

  it('names image files it cannot read (.webp, .bmp) instead of skipping them', () => {
    const root = tempDir('fer-odd-folder-');
    mkdirSync(path.join(root, 'train', 'a'), { recursive: true });
    writeFileSync(path.join(root, 'train', 'a', '1.png'), rgbPng(2, 2));
    writeFileSync(path.join(root, 'train', 'a', '2.webp'), 'RIFF....WEBP');
    writeFileSync(path.join(root, 'train', 'a', '3.bmp'), 'BM');
    writeFileSync(path.join(root, 'train', 'a', '.DS_Store'), '');
    let error: unknown;
    try {
      folderListing({ path: root, classes: ['a'] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).message).toBe(
      `${path.join(root, 'train', 'a', '2.webp')}: 2 files under ${root} are not PNG or JPEG (.webp, .bmp), and fer reads only those`,
    );
  });
});
