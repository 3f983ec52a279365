import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { objectivePng, parallelCoordinatesPng } from '../../src/sweep/pictures.js';
import type { SearchSpace } from '../../src/sweep/space.js';
import type { TrialRecord } from '../../src/sweep/state.js';

const space: SearchSpace = {
  dimensions: [
    { name: 'opt', path: ['opt'], dist: { kind: 'choice', options: [{ value: { adam: {} }, label: 'adam' }, { value: { sgd: {} }, label: 'sgd' }] } },
    { name: 'opt.sgd.momentum', path: ['sgd', 'momentum'], dist: { kind: 'uniform', low: 0.8, high: 0.95 }, condition: { parent: 0, option: 1 } },
    { name: 'lr', path: ['lr'], dist: { kind: 'loguniform', low: 1e-4, high: 1e-2 } },
  ],
};
const trials: TrialRecord[] = [
  { id: 't1', index: 0, state: 'finished', assignment: { opt: 0, lr: 1e-3 }, params: {}, overrides: [], objective: 0.5, started: '', updated: '' },
  { id: 't2', index: 1, state: 'pruned', assignment: { opt: 1, 'opt.sgd.momentum': 0.9, lr: 3e-3 }, params: {}, overrides: [], objective: 0.3, started: '', updated: '' },
  { id: 't3', index: 2, state: 'failed', assignment: { opt: 0, lr: 1e-2 }, params: {}, overrides: [], error: 'diverged', started: '', updated: '' },
];

/** How many pixels are close to a colour. */
function count(png: Buffer, [r, g, b]: [number, number, number]): number {
  const image = PNG.sync.read(png);
  let n = 0;
  for (let i = 0; i < image.data.length; i += 4) if (Math.abs(image.data[i]! - r) + Math.abs(image.data[i + 1]! - g) + Math.abs(image.data[i + 2]! - b) < 30) n++;
  return n;
}

describe('sweep pictures', () => {
  it('draw finished trials blue and pruned ones orange over trial order', () => {
    const png = objectivePng(trials, 'maximize', 'TEST');
    expect(PNG.sync.read(png).width).toBe(720);
    expect(count(png, [40, 90, 200])).toBeGreaterThan(20);
    expect(count(png, [230, 130, 30])).toBeGreaterThan(20);
  });

  it('draw one line per measured trial across the parameter axes, the best bluest', () => {
    const png = parallelCoordinatesPng(space, trials, 'maximize', 'TEST');
    // The best trial's colour (goodness 1) and the worst's (goodness 0) are both there; the failed trial draws nothing.
    expect(count(png, [40, 100, 220])).toBeGreaterThan(50);
    expect(count(png, [220, 60, 40])).toBeGreaterThan(50);
  });
});
