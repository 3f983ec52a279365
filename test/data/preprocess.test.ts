import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/data/dataset.js';
import { fitPreprocessor, gatherRows, preprocessorFromSteps } from '../../src/data/preprocess.js';
import { resizeBilinear } from '../../src/registry/preprocessing.js';

/** Four 2x2 grayscale images; rows 2 and 3 are extreme, to show they never leak into a mean fitted without them. */
const dataset: Dataset = {
  digest: 'x',
  classes: ['a', 'b'],
  image: { height: 2, width: 2, channels: 1 },
  pixels: Uint8Array.from([10, 20, 30, 40, 50, 60, 70, 80, 255, 255, 255, 255, 0, 0, 0, 0]),
  labels: Uint8Array.from([0, 1, 0, 1]),
  splits: new Uint8Array(4),
  splitNames: ['all'],
  source: 'test',
};
const train = Int32Array.from([0, 1]);
const run = (specs: Parameters<typeof fitPreprocessor>[0], rows = [0, 1]) => {
  const p = fitPreprocessor(specs, dataset, train);
  return Array.from(p.apply(gatherRows(dataset, rows), rows.length)).map((v) => Number(v.toFixed(5)));
};

describe('preprocessing', () => {
  it('subtracts the mean of the training rows only, then scales (the reference order)', () => {
    const p = fitPreprocessor(['subtract_mean', { scale: { factor: 0.5 } }], dataset, train);
    expect(p.steps[0]).toEqual({ type: 'subtract_mean', per: 'dataset', mean: 45 });
    // The extreme rows 2 and 3 are transformed with the training mean, not their own.
    expect(run(['subtract_mean', { scale: { factor: 0.5 } }], [2, 3])).toEqual([105, 105, 105, 105, -22.5, -22.5, -22.5, -22.5]);
  });

  it('computes the mean after the steps before it, per pixel when asked', () => {
    const p = fitPreprocessor([{ scale: { factor: 2 } }, { subtract_mean: { per: 'pixel' } }], dataset, train);
    expect(p.steps[1]).toEqual({ type: 'subtract_mean', per: 'pixel', mean: [60, 80, 100, 120] });
    expect(run([{ scale: { factor: 2 } }, { subtract_mean: { per: 'pixel' } }])).toEqual([-40, -40, -40, -40, 40, 40, 40, 40]);
  });

  it('standardises each image on its own', () => {
    const out = run(['standardize']);
    expect(out.slice(0, 4)).toEqual([-1.34164, -0.44721, 0.44721, 1.34164]);
    expect(out.slice(4)).toEqual(out.slice(0, 4));
  });

  it('replicates the channel and resizes, changing the output shape', () => {
    const p = fitPreprocessor(['to_rgb', { resize: { height: 4, width: 4 } }], dataset, train);
    expect(p.outputShape).toEqual({ height: 4, width: 4, channels: 3 });
    const out = p.apply(gatherRows(dataset, [0]), 1);
    expect(out.length).toBe(48);
    expect([out[0], out[1], out[2]]).toEqual([10, 10, 10]);
    expect(out[out.length - 1]).toBe(40);
  });

  it('resizes bilinearly with half-pixel centres (as TensorFlow 2)', () => {
    const out = resizeBilinear(Float32Array.from([0, 10, 20, 30]), 1, { height: 2, width: 2, channels: 1 }, 4, 4);
    expect(Array.from(out.slice(0, 4))).toEqual([0, 2.5, 7.5, 10]);
  });

  it('rebuilds an identical preprocessor from its fitted steps (how prediction reuses it)', () => {
    const fitted = fitPreprocessor(['subtract_mean', { scale: {} }], dataset, train);
    const rebuilt = preprocessorFromSteps(JSON.parse(JSON.stringify(fitted.steps)), dataset.image);
    const input = gatherRows(dataset, [0, 1, 2, 3]);
    expect(Array.from(rebuilt.apply(Float32Array.from(input), 4))).toEqual(Array.from(fitted.apply(Float32Array.from(input), 4)));
  });

  it('refuses to_rgb on 3-channel images', () => {
    expect(() => fitPreprocessor(['to_rgb', 'to_rgb'], dataset, train)).toThrow('`to_rgb` needs 1-channel images');
  });
});
