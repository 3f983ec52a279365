import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rowsOfSplit } from '../../src/data/dataset.js';
import { loadDataset } from '../../src/data/load.js';
import { splitSummary } from '../../src/data/summary.js';
import { dataConfig, fer2013, tempDir } from '../helpers/data.js';

/** The real data from FER_DATA (read-only: the cache goes to a temporary folder); skipped without it. */
const sharedData = fer2013();
describe.skipIf(sharedData === undefined)('FER2013 from FER_DATA', () => {
  const config = dataConfig({ csv: path.join(sharedData ?? '', 'fer2013-train-public.csv.gz') }, { cache: tempDir('fer-cache-') });

  it('loads 28,709 Training and 3,589 PublicTest rows with the class counts of SOURCE.md, then loads again from the cache', async () => {
    const first = await loadDataset({ data: config, seed: 0 });
    expect(first.cached).toBe(false);
    const { dataset } = first;
    const splits = splitSummary(dataset);
    expect(Object.keys(splits)).toEqual(['Training', 'PublicTest']);
    expect(splits.Training!.rows).toBe(28_709);
    expect(splits.PublicTest!.rows).toBe(3_589);
    expect(Object.values(splits.Training!.classes)).toEqual([3995, 436, 4097, 7215, 4830, 3171, 4965]);
    expect(Object.values(splits.PublicTest!.classes)).toEqual([467, 56, 496, 895, 653, 415, 607]);

    // Known pixels, read independently with Python's csv module: row 1 starts 70 80 82 72; the first
    // PublicTest row (index 28,709, angry) starts 254 x4; row 1000 (sad) ends 226 220 210 214.
    const pixel = (row: number, i: number) => dataset.pixels[row * 2304 + i];
    expect([0, 1, 2, 3].map((i) => pixel(0, i))).toEqual([70, 80, 82, 72]);
    expect(rowsOfSplit(dataset, 'PublicTest')[0]).toBe(28_709);
    expect(dataset.labels[28_709]).toBe(0);
    expect([0, 1, 2, 3].map((i) => pixel(28_709, i))).toEqual([254, 254, 254, 254]);
    expect(dataset.labels[1000]).toBe(4);
    expect([2300, 2301, 2302, 2303].map((i) => pixel(1000, i))).toEqual([226, 220, 210, 214]);
    expect([2301, 2302, 2303].map((i) => pixel(32_297, i))).toEqual([203, 205, 204]);
    expect(dataset.digest).toBe('a327cf0a184883d4b32c200c84960c38763c2ae4b0743ed2d3c9fd6ad7e0cd6d');

    const second = await loadDataset({ data: config, seed: 0 });
    expect(second.cached).toBe(true);
    expect(second.dataset.digest).toBe(dataset.digest);
    expect(Buffer.compare(Buffer.from(second.dataset.pixels), Buffer.from(dataset.pixels))).toBe(0);
    expect(Array.from(second.dataset.labels)).toEqual(Array.from(dataset.labels));
  }, 120_000);

  it('gives the same digest for the same rows in a plain CSV (the digest is of the content, not the file)', async () => {
    const sample = await loadDataset({ data: { ...config, source: { csv: path.join(sharedData!, 'sample-700.csv') } }, seed: 0, cache: false });
    expect(sample.dataset.labels.length).toBe(700);
    expect(Object.values(splitSummary(sample.dataset).Training!.classes)).toEqual([100, 100, 100, 100, 100, 100, 100]);
    expect(sample.dataset.digest).toBe('435e162a23ec4edac8ab0fe11caa911a0dec2a3fd2370bce8251844c72e27aeb');
  });
});
