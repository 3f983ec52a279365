import { describe, expect, it } from 'vitest';
import { runFer, STACK_TRACE } from '../helpers/cli.js';
import { tempDir, writeSyntheticFer2013Csv } from '../helpers/data.js';

describe('fer data', () => {
  const cache = () => ['--set', `data.cache=${tempDir('fer-cache-')}`];

  it('inspect --json prints digest and per-split class counts (the documented shape)', async () => {
    // 700 rows in FER2013's layout, 100 of each class (like ../shared's sample-700.csv, made here).
    const result = await runFer(['data', 'inspect', writeSyntheticFer2013Csv(100), '--json'], { cwd: tempDir() });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { digest: string; splits: Record<string, { rows: number; classes: Record<string, number> }> };
    expect(report.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(report.splits).toEqual({
      Training: { rows: 700, classes: { angry: 100, disgust: 100, fear: 100, happy: 100, sad: 100, surprise: 100, neutral: 100 } },
    });
  });

  it('inspect reads a config\'s data section, with overrides', async () => {
    const result = await runFer(['data', 'inspect', 'configs/demo.yaml', ...cache(), '--set', 'data.source.synthetic.rows_per_class=3']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/source: synthetic\ndigest: [0-9a-f]{64}\nrows: {3}42 images of 48x48x1/);
    expect(result.stdout).toMatch(/train\s+21\s+3\s+3\s+3\s+3\s+3\s+3\s+3/);
  });

  it('folds --json gives the same assignment digest in two separate runs, and another with another seed', async () => {
    const run = async (seed: number) => {
      const result = await runFer(['data', 'folds', 'configs/demo.yaml', '--json', ...cache(), '--set', `seed=${seed}`]);
      expect(result.code, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as { assignmentDigest: string; k: number; folds: { train: { rows: number }; validation: { rows: number } }[] };
    };
    const [a, b, c] = await Promise.all([run(7), run(7), run(8)]);
    expect(a.assignmentDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(b.assignmentDigest).toBe(a.assignmentDigest);
    expect(c.assignmentDigest).not.toBe(a.assignmentDigest);
    expect(a.k).toBe(2);
    // demo.yaml: 80 synthetic training images per class, 7 classes, halved.
    expect(a.folds.map((f) => f.validation.rows)).toEqual([280, 280]);
  });

  it('exits 1 with the path tried and where to get the data when the data is missing', async () => {
    const result = await runFer(['data', 'inspect', 'configs/cnn.yaml'], { env: { FER_DATA: '/no/such/folder' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error: data file not found: /no/such/folder/fer2013-train-public.csv.gz');
    expect(result.stderr).toContain('help: ');
    expect(result.stderr).not.toMatch(STACK_TRACE);
  });

  it('names the split a config asks for when the data lacks it', async () => {
    const result = await runFer(['data', 'folds', 'configs/demo.yaml', ...cache(), '--set', 'data.split.train=Training']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the data has no split `Training` (data.split.train); its splits are `train`, `test`');
  });
});
