import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { SystemReader, SystemSampler, type SystemMetrics } from '../../src/run/system-sampler.js';

describe('system metrics', () => {
  it('reads the machine under MLflow names, within their ranges', () => {
    const reader = new SystemReader(os.tmpdir());
    // Some work between readings, so CPU use has something to measure.
    let x = 0;
    for (let i = 0; i < 2e6; i++) x += Math.sqrt(i);
    expect(x).toBeGreaterThan(0);
    const m = reader.read();
    expect(m['system/cpu_utilization_percentage']).toBeGreaterThanOrEqual(0);
    expect(m['system/cpu_utilization_percentage']).toBeLessThanOrEqual(100);
    expect(m['system/system_memory_usage_megabytes']).toBeGreaterThan(0);
    expect(m['system/system_memory_usage_megabytes']).toBeLessThan(os.totalmem() / 1024 / 1024);
    expect(m['system/system_memory_usage_percentage']).toBeGreaterThan(0);
    expect(m['system/system_memory_usage_percentage']).toBeLessThanOrEqual(100);
    expect(m['system/disk_usage_percentage']).toBeGreaterThan(0);
  });

  it('samples each running task at start, every interval and at its end', async () => {
    const seen: { key: string; metrics: SystemMetrics }[] = [];
    const sampler = new SystemSampler({ intervalMs: 50, reader: new SystemReader(os.tmpdir()), record: (key, metrics) => seen.push({ key, metrics }) });
    sampler.taskStart('a/fold-0');
    sampler.taskStart('a/fold-1');
    await new Promise((resolve) => setTimeout(resolve, 180));
    sampler.taskEnd('a/fold-0');
    sampler.taskEnd('a/fold-1');
    const count = (key: string) => seen.filter((s) => s.key === key).length;
    // start + at least two intervals + end
    expect(count('a/fold-0')).toBeGreaterThanOrEqual(4);
    expect(count('a/fold-1')).toBeGreaterThanOrEqual(4);
    const after = seen.length;
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(seen.length).toBe(after);
  });

  it('an interval of 0 samples nothing', () => {
    const seen: string[] = [];
    const sampler = new SystemSampler({ intervalMs: 0, reader: new SystemReader(os.tmpdir()), record: (key) => seen.push(key) });
    sampler.taskStart('a/fold-0');
    sampler.taskEnd('a/fold-0');
    expect(seen).toEqual([]);
  });
});
