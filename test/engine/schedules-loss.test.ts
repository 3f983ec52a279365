import { beforeAll, describe, expect, it } from 'vitest';
import { startEngine } from '../../src/backend/backend.js';
import { buildLoss } from '../../src/engine/loss.js';
import { buildSchedule } from '../../src/engine/optimizer.js';
import { initialScheduleState } from '../../src/registry/schedules.js';
import type { Tf } from '../../src/core/tf.js';

let tf: Tf;
beforeAll(async () => {
  tf = (await startEngine('cpu')).tf;
});

describe('learning-rate schedules', () => {
  const s = initialScheduleState();
  it('step and exponential follow the epoch', () => {
    const step = buildSchedule({ step: { every: 3, factor: 0.5 } }, 0.1, 10);
    expect([0, 2, 3, 6].map((e) => step.rate(e, 0, 10, s))).toEqual([0.1, 0.1, 0.05, 0.025]);
    const exponential = buildSchedule({ exponential: { decay_rate: 0.9 } }, 1, 10);
    expect(exponential.rate(2, 5, 10, s)).toBeCloseTo(0.81, 12);
  });

  it('cosine warms up linearly, then decays to the floor at the last step', () => {
    const cosine = buildSchedule({ cosine: { warmup_epochs: 1, min_learning_rate: 0.001 } }, 0.1, 5);
    expect(cosine.rate(0, 0, 10, s)).toBeCloseTo(0.01, 12);
    expect(cosine.rate(0, 9, 10, s)).toBeCloseTo(0.1, 12);
    expect(cosine.rate(1, 0, 10, s)).toBeCloseTo(0.1, 12);
    expect(cosine.rate(3, 0, 10, s)).toBeCloseTo(0.001 + 0.099 * 0.5, 12);
    expect(cosine.rate(4, 9, 10, s)).toBeGreaterThan(0.001);
  });

  it('reduce_on_plateau cuts the rate after `patience` epochs without improvement, with its state', () => {
    const state = initialScheduleState();
    const plateau = buildSchedule({ reduce_on_plateau: { monitor: 'val_loss', factor: 0.5, patience: 1, min_delta: 0 } }, 0.1, 10);
    const rates: number[] = [];
    for (const loss of [1.0, 0.9, 0.95, 0.92, 0.91, 0.85]) {
      rates.push(plateau.rate(0, 0, 1, state));
      plateau.endEpoch({ val_loss: loss }, state);
    }
    expect(rates).toEqual([0.1, 0.1, 0.1, 0.1, 0.05, 0.05]);
    expect(state).toEqual({ factor: 0.5, best: 0.85, wait: 0 });
  });
});

describe('loss', () => {
  it('is categorical cross-entropy on probabilities, with label smoothing and example weights', () => {
    const y = tf.tensor2d([[0, 1, 0], [1, 0, 0]]);
    const p = tf.tensor2d([[0.2, 0.7, 0.1], [0.5, 0.25, 0.25]]);
    const plain = buildLoss(tf, 'categorical_crossentropy')(y, p).dataSync()[0]!;
    expect(plain).toBeCloseTo((-Math.log(0.7) - Math.log(0.5)) / 2, 6);
    const weighted = buildLoss(tf, 'categorical_crossentropy')(y, p, tf.tensor1d([2, 0])).dataSync()[0]!;
    expect(weighted).toBeCloseTo((2 * -Math.log(0.7)) / 2, 6);
    const smooth = buildLoss(tf, { categorical_crossentropy: { label_smoothing: 0.3 } })(y, p).dataSync()[0]!;
    const t1 = [0.1, 0.8, 0.1];
    const t2 = [0.8, 0.1, 0.1];
    const expected = (-(t1[0]! * Math.log(0.2) + t1[1]! * Math.log(0.7) + t1[2]! * Math.log(0.1)) - (t2[0]! * Math.log(0.5) + t2[1]! * Math.log(0.25) + t2[2]! * Math.log(0.25))) / 2;
    expect(smooth).toBeCloseTo(expected, 6);
  });
});
