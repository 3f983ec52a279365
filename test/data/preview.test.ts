import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { runFer } from '../helpers/cli.js';

describe('fer data preview', () => {
  it('draws one image per class: stored, preprocessed, after each augmentation and after all', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-preview-'));
    const svgFile = path.join(dir, 'preview.svg');
    const svg = await runFer(['data', 'preview', 'configs/demo.yaml', '--set', 'data.augment=[flip_horizontal, {rotate: {max_degrees: 20}}]', '--out', svgFile]);
    expect(svg.code, svg.stderr).toBe(0);
    const text = readFileSync(svgFile, 'utf8');
    // 7 classes x (stored, preprocessed, + flip_horizontal, + rotate, + all)
    expect(text.match(/<image /g)).toHaveLength(35);
    for (const column of ['stored', 'preprocessed', '+ flip_horizontal', '+ rotate', '+ all']) expect(text).toContain(`>${column}<`);
    // Seeded: the same picture again.
    const again = await runFer(['data', 'preview', 'configs/demo.yaml', '--set', 'data.augment=[flip_horizontal, {rotate: {max_degrees: 20}}]', '--out', svgFile]);
    expect(again.code).toBe(0);
    expect(readFileSync(svgFile, 'utf8')).toBe(text);
    const pngFile = path.join(dir, 'preview.png');
    const png = await runFer(['data', 'preview', 'configs/demo.yaml', '--out', pngFile]);
    expect(png.code, png.stderr).toBe(0);
    expect(png.stdout).toContain('wrote');
    expect(PNG.sync.read(readFileSync(pngFile)).height).toBeGreaterThan(7 * 112);
  }, 120_000);
});
