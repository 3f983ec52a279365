import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTaskMetrics } from '../../src/store/run-folder.js';
import { repoRoot, runFer } from '../helpers/cli.js';
import { tempDir } from '../helpers/data.js';

const demo = path.join(repoRoot, 'configs', 'demo.yaml');

describe('a newcomer\'s first hour', () => {
  it('estimates the work before training, measured once and then from the cache', async () => {
    const dir = tempDir('fer-estimate-');
    const env = { FER_CACHE: path.join(dir, 'cache') };
    const first = await runFer(['run', demo, '--dry-run', '--json'], { cwd: dir, env });
    expect(first.code, first.stderr).toBe(0);
    const estimate = (JSON.parse(first.stdout) as { estimate: { tasks: number; epochs: number; rows: number; images: number; seconds: number; models: Record<string, { source: string; trainImagesPerSecond: number }> } }).estimate;
    expect(estimate).toMatchObject({ tasks: 4, epochs: 10 });
    expect(estimate.images).toBe(estimate.rows * 4 * 10);
    expect(estimate.seconds).toBeGreaterThan(0);
    expect(estimate.models.tiny!.source).toBe('measured');
    expect(first.stderr).toContain('timing a few training steps of tiny');
    const second = await runFer(['run', demo, '--dry-run'], { cwd: dir, env });
    expect(second.stdout).toMatch(/work: 4 tasks x 10 epochs x \d+ rows/);
    expect(second.stdout).toMatch(/estimate: about \S+ on \d workers? .*tiny \d+ img\/s \(cached\)/);
    expect(second.stderr).not.toContain('timing');
  }, 180_000);

  it('counts held-out validation rows out of the training images it estimates', async () => {
    const dir = tempDir('fer-estimate-held-');
    const env = { FER_CACHE: path.join(dir, 'cache') };
    const rowsWith = async (...set: string[]) => {
      const result = await runFer(['run', demo, '--dry-run', '--json', '--set', '~folds', ...set.flatMap((s) => ['--set', s])], { cwd: dir, env });
      expect(result.code, result.stderr).toBe(0);
      return (JSON.parse(result.stdout) as { estimate: { rows: number } }).estimate.rows;
    };
    const all = await rowsWith();
    const kept = await rowsWith('data.split.validation_fraction=0.25');
    // 80 synthetic rows per class: 20 of each held out.
    expect(all).toBe(80 * 7);
    expect(kept).toBe(60 * 7);
  }, 180_000);

  it('after a run, the cache holds the training rate its epochs measured, not the probe\'s', async () => {
    const dir = tempDir('fer-estimate-learn-');
    const env = { FER_CACHE: path.join(dir, 'cache') };
    const run = await runFer(['run', demo, '--set', 'training.epochs=3', '--json'], { cwd: dir, env });
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { runDir: string; estimate: { models: Record<string, { source: string }> } };
    const { estimate } = result;
    const runDir = path.resolve(dir, result.runDir);
    expect(estimate.models.tiny!.source).toBe('measured');
    const rates = ['tiny-1', 'tiny-2']
      .flatMap((member) => readdirSync(path.join(runDir, 'tasks', member)).map((fold) => `${member}/${fold}`))
      .flatMap((key) => (readTaskMetrics(runDir, key) ?? []).map((m) => m.images_per_second))
      .sort((a, b) => a - b);
    expect(rates).toHaveLength(4 * 3);
    const median = (rates[5]! + rates[6]!) / 2;
    const cache = JSON.parse(readFileSync(path.join(dir, 'cache', 'estimates.json'), 'utf8')) as { rates: Record<string, { trainImagesPerSecond: number; from: string }> };
    const entries = Object.values(cache.rates);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.from).toBe('epochs');
    expect(entries[0]!.trainImagesPerSecond).toBeCloseTo(median, 6);
    const again = await runFer(['run', demo, '--set', 'training.epochs=3', '--new', '--dry-run'], { cwd: dir, env });
    expect(again.stdout).toContain(`tiny ${median.toFixed(0)} img/s (cached)`);
  }, 180_000);

  it('runs a smoke run end to end as its own experiment', async () => {
    const dir = tempDir('fer-smoke-');
    const result = await runFer(['run', demo, '--smoke'], { cwd: dir, env: { FER_CACHE: path.join(dir, 'cache') } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('smoke run finished');
    expect(existsSync(path.join(dir, 'runs', 'demo'))).toBe(false);
    const runs = readdirSync(path.join(dir, 'runs', 'demo-smoke')).filter((d) => d.startsWith('run-'));
    expect(runs).toHaveLength(1);
    const runDir = path.join(dir, 'runs', 'demo-smoke', runs[0]!);
    expect(existsSync(path.join(runDir, 'ensemble', 'report.txt'))).toBe(true);
    const metrics = JSON.parse(readFileSync(path.join(runDir, 'tasks', 'tiny-1', 'fold-0', 'metrics.json'), 'utf8')) as { epoch: number }[];
    expect(metrics.map((m) => m.epoch)).toEqual([1, 2]);
    // A slice: 2 batches of at most 4 images per fold's training rows.
    const validation = readFileSync(path.join(runDir, 'tasks', 'tiny-1', 'fold-0', 'predictions.validation.csv'), 'utf8').trim().split('\n');
    expect(validation.length - 1).toBeLessThanOrEqual(8);
    // Its weights are noise: tracked like a real run but without models (none logged, none registered).
    const journal = readFileSync(path.join(runDir, 'tracking', 'journal-main.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { type: string; path?: string });
    expect(journal.filter((e) => e.type === 'metrics').length).toBeGreaterThan(0);
    expect(journal.filter((e) => e.type === 'model' || e.type === 'register')).toEqual([]);
    expect(journal.some((e) => e.type === 'artifact' && e.path === 'ensemble/report.txt')).toBe(true);
  }, 180_000);

  it('shows the resolved config with where each value came from', async () => {
    const result = await runFer(['config', 'show', 'configs/demo.yaml', '--origin', '--set', 'training.epochs=3']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^training\.epochs: 3 +# --set$/m);
    expect(result.stdout).toMatch(/^training\.batch_size: 32 +# configs\/demo\.yaml:\d+$/m);
    expect(result.stdout).toMatch(/^training\.optimizer\.adam\.beta_1: 0\.9 +# default$/m);
    const json = await runFer(['config', 'show', 'configs/demo.yaml', '--json']);
    expect((JSON.parse(json.stdout) as { name: string; training: { epochs: number } }).training.epochs).toBe(10);
  });

  it('validates a config whose initial weights come from a run not made yet, with a note', async () => {
    const dir = tempDir('fer-validate-');
    const result = await runFer(['validate', path.join(repoRoot, 'configs', 'transfer-3class.yaml'), '--set', `models.small_vgg.init.run=${path.join(dir, 'runs', 'quick')}`], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('transfer-3class.yaml: ok, but for the weights its models start from, which do not exist yet:');
    expect(result.stdout).toContain('note: init.run:');
    expect(result.stdout).not.toContain('undefined');
  });
});
