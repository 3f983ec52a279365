import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../src/config/load.js';
import { classCounts, rowsOfSplit } from '../../src/data/dataset.js';
import { loadDataset } from '../../src/data/load.js';
import { classNames } from '../../src/config/shape.js';
import { repoRoot } from '../helpers/cli.js';
import { dataConfig, tempDir, writeCsv } from '../helpers/data.js';

/** The reference study's 3-class grouping. */
const THREE = { positive: ['happy', 'surprise'], negative: ['angry', 'disgust', 'fear', 'sad'], neutral: ['neutral'] };

describe('data.merge_classes', () => {
  it('relabels rows to the merged classes, in their order, counting each source class once', async () => {
    // Labels 0..6 twice each in Training, once each in PublicTest.
    const px = '0 0 0 0';
    const rows = [0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6].map((l) => [l, px, 'Training'] as const);
    const file = writeCsv([...rows, ...[0, 1, 2, 3, 4, 5, 6].map((l) => [l, px, 'PublicTest'] as const)]);
    const image = { height: 2, width: 2, channels: 1 as const };
    const plain = await loadDataset({ data: dataConfig({ csv: file }, { image }), seed: 1 });
    const merged = await loadDataset({ data: dataConfig({ csv: file }, { image, merge_classes: THREE }), seed: 1 });
    expect(merged.dataset.classes).toEqual(['positive', 'negative', 'neutral']);
    expect(classCounts(merged.dataset, rowsOfSplit(merged.dataset, 'Training'))).toEqual([4, 8, 2]);
    expect(classCounts(merged.dataset, rowsOfSplit(merged.dataset, 'PublicTest'))).toEqual([2, 4, 1]);
    // Row by row: happy (3) -> positive (0), fear (2) -> negative (1), neutral (6) -> neutral (2).
    expect([merged.dataset.labels[3], merged.dataset.labels[2], merged.dataset.labels[6]]).toEqual([0, 1, 2]);
    expect(merged.dataset.pixels).toEqual(plain.dataset.pixels);
    expect(merged.dataset.digest).not.toBe(plain.dataset.digest);
  });

  function configWith(merge: string): string {
    const dir = tempDir('fer-merge-');
    const file = path.join(dir, 'merge.yaml');
    writeFileSync(file, `extends: ${path.join(repoRoot, 'configs', 'demo.yaml')}\ndata:\n  merge_classes:\n${merge}`);
    return file;
  }

  it('makes the models predict the merged classes', () => {
    const { loaded, diagnostics } = readConfig(configWith('    positive: [happy, surprise]\n    negative: [angry, disgust, fear, sad]\n    neutral: [neutral]\n'));
    expect(diagnostics).toEqual([]);
    expect(classNames(loaded!.config)).toEqual(['positive', 'negative', 'neutral']);
  });

  it('reports an unknown class with did-you-mean, a class used twice, and classes left out, at their lines', () => {
    const { diagnostics } = readConfig(configWith('    positive: [happy, suprise]\n    negative: [angry, disgust, fear, sad, happy]\n'));
    const lines = diagnostics.map((d) => [d.span?.start.line, d.code, d.message, d.hint]);
    expect(lines).toContainEqual([4, 'reference', '`suprise` is not one of data.classes', 'did you mean `surprise`?']);
    expect(lines).toContainEqual([5, 'duplicate-name', '`happy` is merged into both `positive` and `negative`', 'each class goes to one merged class']);
    expect(diagnostics.find((d) => d.code === 'missing-key')?.message).toMatch(/^merge_classes leaves out `surprise`.* `neutral`$/);
  });
});
