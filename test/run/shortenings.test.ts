import { describe, expect, it } from 'vitest';
import { shortenings, type RunEstimate } from '../../src/run/estimate.js';

function estimate(tasks: number, hours: number): RunEstimate {
  return {
    tasks,
    epochs: 300,
    rows: 23254,
    images: tasks * 300 * 23254,
    workers: 1,
    threads: 2,
    backend: 'tensorflow',
    seconds: hours * 3600,
    taskSeconds: {},
    models: {},
  };
}

describe('what would shorten a long run', () => {
  it('suggests shards only when there are tasks to share out', () => {
    const single = shortenings(estimate(1, 100), 'fer run configs/long.yaml', false);
    expect(single.some((line) => line.includes('--shard'))).toBe(false);
    expect(single.some((line) => line.startsWith('fewer epochs: --set training.epochs=75'))).toBe(true);

    const many = shortenings(estimate(64, 10), 'fer run configs/ensemble16.yaml', false);
    expect(many[0]).toMatch(/^split it across 10 machines .* --shard i\/10 .* \(about 1h00m each\)$/);
  });

  it('never suggests more machines than tasks', () => {
    const lines = shortenings(estimate(3, 100), 'fer run x.yaml', false);
    expect(lines[0]).toContain('--shard i/3');
  });

  it('leaves out the GPU when the run is on one', () => {
    expect(shortenings(estimate(1, 2), 'fer run x.yaml', true).some((line) => line.includes('GPU'))).toBe(false);
    expect(shortenings(estimate(1, 2), 'fer run x.yaml', false).some((line) => line.includes('GPU'))).toBe(true);
  });
});
