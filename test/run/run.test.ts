import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ferBin, killAtEpoch, repoRoot, runFer, STACK_TRACE } from '../helpers/cli.js';
import { dataConfig, rgbPng, tempDir } from '../helpers/data.js';
import { startEngine } from '../../src/backend/backend.js';
import type { Progress } from '../../src/core/progress.js';
import { loadDataset } from '../../src/data/load.js';
import { evaluateSplit } from '../../src/predict/evaluate-split.js';
import { SavedEnsemble } from '../../src/predict/saved-ensemble.js';
import { openRun } from '../../src/store/saved-run.js';
import { readTaskSaliency, saliencyImages } from '../../src/store/task-saliency.js';

/** The demo config, made a little slower where a test needs to catch a run mid-epoch. */
const slowDemo = ['--set', 'data.source.synthetic.rows_per_class=250', '--set', 'training.epochs=5', '--set', 'training.batch_size=16'];

function onlyRun(runs: string, experiment = 'demo'): string {
  const dir = path.join(runs, experiment);
  const entries = readdirSync(dir).filter((d) => d.startsWith('run-'));
  expect(entries).toHaveLength(1);
  return path.join(dir, entries[0]!);
}

const summaryOf = (runDir: string) => JSON.parse(readFileSync(path.join(runDir, 'ensemble', 'summary.json'), 'utf8')) as {
  ensemble: { oof: { accuracy: number }; test: { rows: number; accuracy: number; confusion: number[][] } };
  members: { name: string; oof: { accuracy: number }; test: { accuracy: number } }[];
};
const metricsOf = (runDir: string, key: string) => JSON.parse(readFileSync(path.join(runDir, 'tasks', ...key.split('/'), 'metrics.json'), 'utf8')) as Record<string, number>[];
const strip = (history: Record<string, number>[]) => history.map(({ seconds: _s, images_per_second: _i, ...rest }) => rest);

/** A predictions CSV (row, label, one column per class) as numbers. */
function readPredictionsCsv(file: string): { rows: number[]; labels: number[]; probabilities: Float32Array } {
  const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1).map((line) => line.split(',').map(Number));
  return { rows: lines.map((l) => l[0]!), labels: lines.map((l) => l[1]!), probabilities: Float32Array.from(lines.flatMap((l) => l.slice(2))) };
}
const maxDifference = (a: Float32Array, b: Float32Array) => {
  expect(a.length).toBe(b.length);
  return a.reduce((max, v, i) => Math.max(max, Math.abs(v - b[i]!)), 0);
};
/** A member's saved test predictions: the mean of its two fold models'. */
function memberTestPredictions(member: string): Float32Array {
  const [a, b] = ['fold-0', 'fold-1'].map((fold) => readPredictionsCsv(path.join(demoDir, 'tasks', member, fold, 'predictions.test.csv')).probabilities);
  return a!.map((v, i) => (v + b![i]!) / 2);
}

/** A Progress that keeps what it hears. */
function recordingProgress(): Progress & { details: string[] } {
  const details: string[] = [];
  return { details, update: (_task, _fraction, detail) => details.push(detail ?? ''), done: (_task, message) => details.push(message) };
}

let demoRuns: string;
let demoDir: string;
beforeAll(async () => {
  demoRuns = tempDir('fer-runs-');
  const result = await runFer(['run', 'configs/demo.yaml', '--runs', demoRuns]);
  expect(result.code, result.stderr).toBe(0);
  demoDir = onlyRun(demoRuns);
}, 300_000);

describe('fer run', () => {
  it('trains every member on every fold, then reports members and ensemble', () => {
    const summary = summaryOf(demoDir);
    expect(summary.members.map((m) => m.name)).toEqual(['tiny-1', 'tiny-2']);
    expect(summary.ensemble.test.accuracy).toBeGreaterThan(0.5);
    for (const file of ['run.json', 'config.resolved.yaml', 'ensemble/report.txt', 'ensemble/confusion-matrix.png', 'ensemble/confusion-matrix.json', 'ensemble/predictions.test.csv']) {
      expect(existsSync(path.join(demoDir, file)), file).toBe(true);
    }
    for (const task of ['tiny-1/fold-0', 'tiny-1/fold-1', 'tiny-2/fold-0', 'tiny-2/fold-1']) {
      const dir = path.join(demoDir, 'tasks', ...task.split('/'));
      for (const file of ['status.json', 'metrics.csv', 'metrics.json', 'model/model.json', 'model/weights.bin', 'preprocess.json', 'predictions.validation.csv', 'predictions.test.csv']) {
        expect(existsSync(path.join(dir, file)), `${task}/${file}`).toBe(true);
      }
      expect(metricsOf(demoDir, task)).toHaveLength(10);
    }
    expect(JSON.parse(readFileSync(path.join(demoDir, 'run.json'), 'utf8'))).toMatchObject({ experiment: 'demo', state: 'finished', tasks: 4 });
  });

  it('computes the ensemble accuracy the same way a hand computation on the saved probabilities does', () => {
    const read = (file: string) =>
      readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(',').map(Number));
    // Each member's test probabilities: the mean of its two fold models.
    const member = (name: string) => {
      const folds = ['fold-0', 'fold-1'].map((f) => read(path.join(demoDir, 'tasks', name, f, 'predictions.test.csv')));
      return folds[0]!.map((row, i) => row.slice(2).map((p, k) => (p + folds[1]![i]![2 + k]!) / 2));
    };
    const one = member('tiny-1');
    const two = member('tiny-2');
    const labels = read(path.join(demoDir, 'tasks', 'tiny-1', 'fold-0', 'predictions.test.csv')).map((row) => row[1]!);
    let correct = 0;
    labels.forEach((label, i) => {
      const mean = one[i]!.map((p, k) => (p + two[i]![k]!) / 2);
      if (mean.indexOf(Math.max(...mean)) === label) correct++;
    });
    expect(summaryOf(demoDir).ensemble.test.accuracy).toBeCloseTo(correct / labels.length, 10);
  });

  it('skips finished tasks when run again (the same command resumes)', async () => {
    const again = await runFer(['run', 'configs/demo.yaml', '--runs', demoRuns]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('4 tasks, 4 already done, 0 to train');
    expect(onlyRun(demoRuns)).toBe(demoDir);
  });

  it('lists 64 tasks with distinct seeds for ensemble16 in a dry run', async () => {
    const result = await runFer(['run', 'configs/ensemble16.yaml', '--dry-run', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const { tasks } = JSON.parse(result.stdout) as { tasks: { key: string; member: string; fold: number; seed: number }[] };
    expect(tasks).toHaveLength(64);
    expect(new Set(tasks.map((t) => t.seed)).size).toBe(64);
    expect(new Set(tasks.map((t) => t.key)).size).toBe(64);
    expect(tasks[0]).toMatchObject({ key: 'cnn-1/fold-0', member: 'cnn-1', fold: 0 });
  });
});

describe('fer evaluate and fer predict', () => {
  it('evaluate recomputes the saved metrics, and predicts another split with the saved models', async () => {
    const saved = await runFer(['evaluate', demoDir, '--json']);
    expect(saved.code, saved.stderr).toBe(0);
    expect((JSON.parse(saved.stdout) as { ensemble: { accuracy: number } }).ensemble.accuracy).toBe(summaryOf(demoDir).ensemble.test.accuracy);
    const fromWeights = await runFer(['evaluate', demoDir, '--split', 'test', '--json']);
    expect(fromWeights.code).toBe(0);
    const train = await runFer(['evaluate', demoDir, '--split', 'train', '--json']);
    expect(train.code, train.stderr).toBe(0);
    expect((JSON.parse(train.stdout) as { ensemble: { rows: number; accuracy: number } }).ensemble).toMatchObject({ rows: 560 });
    const missing = await runFer(['evaluate', demoDir, '--split', 'PrivateTest']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('the data has no split `PrivateTest`');
  });

  it("predicts the test split as the run did (evaluate's path), loading each model once and releasing every tensor", async () => {
    const { tf } = await startEngine('auto');
    const before = tf.memory().numTensors;
    const ensemble = await SavedEnsemble.open(demoDir, { tf });
    const progress = recordingProgress();
    const result = await evaluateSplit(ensemble, 'test', { progress });
    // 560 images in batches, each of the 4 models loaded once.
    expect(progress.details).toEqual(['model 1/4: tiny-1/fold-0', 'model 2/4: tiny-1/fold-1', 'model 3/4: tiny-2/fold-0', 'model 4/4: tiny-2/fold-1', '560 images with 4 models']);
    expect(tf.memory().numTensors).toBe(before);
    const saved = readPredictionsCsv(path.join(demoDir, 'ensemble', 'predictions.test.csv'));
    expect(Array.from(result.rows)).toEqual(saved.rows);
    expect(Array.from(result.labels)).toEqual(saved.labels);
    expect(maxDifference(result.prediction.probabilities, saved.probabilities)).toBeLessThan(1e-5);
    ['tiny-1', 'tiny-2'].forEach((member, i) => expect(maxDifference(result.prediction.members[i]!, memberTestPredictions(member)), member).toBeLessThan(1e-5));
    const summary = summaryOf(demoDir);
    expect(result.ensemble.rows).toBe(summary.ensemble.test.rows);
    expect(Math.abs(result.ensemble.accuracy - summary.ensemble.test.accuracy)).toBeLessThanOrEqual(1 / saved.rows.length);
  });

  it('the saliency picture averages the maps each worker kept, as loading every model again gives them', async () => {
    const run = openRun(demoDir);
    const { dataset } = await loadDataset({ data: run.config.data!, seed: run.config.seed });
    const saved = readPredictionsCsv(path.join(demoDir, 'ensemble', 'predictions.test.csv'));
    const chosen = saliencyImages(saved.rows, saved.labels, 7);
    expect(chosen).toHaveLength(21);
    const keys = ['tiny-1/fold-0', 'tiny-1/fold-1', 'tiny-2/fold-0', 'tiny-2/fold-1'];
    const kept = keys.map((key) => readTaskSaliency(demoDir, key)!);
    for (const k of kept) {
      expect(k.rows).toEqual(chosen.map((c) => c.row));
      expect(k.labels).toEqual(chosen.map((c) => c.label));
    }
    const averaged = kept[0]!.maps.map((_, i) => kept.reduce((sum, k) => sum + k.maps[i]! / kept.length, 0));
    // The slow path: every model loaded again, as a run from before the workers kept maps is drawn.
    const { tf } = await startEngine('auto');
    const size = 48 * 48;
    const images = new Uint8Array(chosen.length * size);
    chosen.forEach((c, i) => images.set(dataset.pixels.subarray(c.row * size, (c.row + 1) * size), i * size));
    const loaded = await (await SavedEnsemble.open(demoDir, { tf })).saliency(images, chosen.map((c) => c.label));
    const largest = loaded.maps.reduce((m, v) => Math.max(m, v), 0);
    expect(largest).toBeGreaterThan(0);
    expect(maxDifference(averaged, loaded.maps) / largest).toBeLessThan(1e-4);
    expect(existsSync(path.join(demoDir, 'pictures', 'saliency.png'))).toBe(true);
  });

  it("predict gives the run's own test predictions for the test rows as a CSV", async () => {
    const { dataset } = await loadDataset({ data: openRun(demoDir).config.data!, seed: openRun(demoDir).config.seed });
    const saved = readPredictionsCsv(path.join(demoDir, 'ensemble', 'predictions.test.csv'));
    const size = 48 * 48;
    const csv = path.join(tempDir('fer-predict-'), 'test.csv');
    writeFileSync(csv, ['emotion,pixels', ...saved.rows.map((row) => `${dataset.labels[row]},${Array.from(dataset.pixels.subarray(row * size, (row + 1) * size)).join(' ')}`)].join('\n'));
    const result = await runFer(['predict', demoDir, csv, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const predictions = JSON.parse(result.stdout) as { input: string; probabilities: Record<string, number> }[];
    expect(predictions.map((p) => p.input)).toEqual(saved.rows.map((_, i) => `${csv}:${i + 2}`));
    const printed = Float32Array.from(predictions.flatMap((p) => Object.values(p.probabilities)));
    // --json prints 4 decimals.
    expect(maxDifference(printed, saved.probabilities)).toBeLessThan(5e-5 + 1e-5);
  });

  it('predict gives an RGB image exactly the gray values it has as training data', async () => {
    const root = tempDir('fer-gray-');
    mkdirSync(path.join(root, 'train', 'happy'), { recursive: true });
    const png = path.join(root, 'train', 'happy', 'face.png');
    writeFileSync(png, rgbPng());
    const data = dataConfig({ folder: { path: root } }, { split: { train: 'train', test: null, test_fraction: null, validation_fraction: null } });
    const { dataset } = await loadDataset({ data, seed: 1, cache: false });
    const stored = path.join(root, 'stored.csv');
    writeFileSync(stored, `emotion,pixels\n3,${Array.from(dataset.pixels).join(' ')}\n`);
    const result = await runFer(['predict', demoDir, png, stored, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const [fromPng, fromStored] = JSON.parse(result.stdout) as { probabilities: Record<string, number> }[];
    expect(fromPng!.probabilities).toEqual(fromStored!.probabilities);
  });

  it('predict labels images and CSV rows with the saved ensemble', async () => {
    const dir = tempDir('fer-predict-');
    const image = new PNG({ width: 48, height: 48 });
    for (let i = 0; i < 48 * 48; i++) image.data.set([(i * 7) % 256, (i * 7) % 256, (i * 7) % 256, 255], i * 4);
    writeFileSync(path.join(dir, 'face.png'), PNG.sync.write(image));
    writeFileSync(path.join(dir, 'faces.csv'), `emotion,pixels,Usage\n0,${Array.from({ length: 2304 }, (_, i) => i % 256).join(' ')},x\n`);
    const result = await runFer(['predict', demoDir, path.join(dir, 'face.png'), path.join(dir, 'faces.csv'), '--json']);
    expect(result.code, result.stderr).toBe(0);
    const predictions = JSON.parse(result.stdout) as { input: string; emotion: string; probabilities: Record<string, number> }[];
    expect(predictions).toHaveLength(2);
    for (const p of predictions) {
      expect(['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']).toContain(p.emotion);
      expect(Object.values(p.probabilities).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 2);
    }
  });
});

describe('interruptions and shards', () => {
  it('a run killed with SIGKILL mid-epoch and run again ends with the metrics of an uninterrupted run', async () => {
    const whole = tempDir('fer-runs-');
    const uninterrupted = await runFer(['run', 'configs/demo.yaml', '--runs', whole, '--workers', '1', ...slowDemo]);
    expect(uninterrupted.code, uninterrupted.stderr).toBe(0);

    const cut = tempDir('fer-runs-');
    const child = spawn(process.execPath, [ferBin, 'run', 'configs/demo.yaml', '--runs', cut, '--workers', '1', ...slowDemo], {
      cwd: repoRoot,
      detached: true, // its own process group, so the kill takes the workers too
      stdio: 'ignore',
    });
    // Wait until the first task has two epochs done, then kill everything without warning.
    await killAtEpoch(child, cut, 'demo', 'tiny-1/fold-0', 2);
    const resumed = await runFer(['run', 'configs/demo.yaml', '--runs', cut, '--workers', '1', ...slowDemo]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resumed after epoch [2-4]/);
    const a = onlyRun(whole);
    const b = onlyRun(cut);
    for (const task of ['tiny-1/fold-0', 'tiny-1/fold-1', 'tiny-2/fold-0', 'tiny-2/fold-1']) {
      expect(strip(metricsOf(b, task)), task).toEqual(strip(metricsOf(a, task)));
    }
    expect(summaryOf(b)).toEqual(summaryOf(a));
  }, 600_000);

  it('two shards run separately and collected give the ensemble of one unsharded run', async () => {
    const shared = tempDir('fer-runs-');
    const first = await runFer(['run', 'configs/demo.yaml', '--runs', shared, '--shard', '1/2']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`shard 1/2 done; when all shards are, build the ensemble with: fer run configs/demo.yaml --collect --runs ${shared}\n`);
    const second = await runFer(['run', 'configs/demo.yaml', '--runs', shared, '--shard', '2/2']);
    expect(second.code, second.stderr).toBe(0);
    const collected = await runFer(['run', 'configs/demo.yaml', '--runs', shared, '--collect']);
    expect(collected.code, collected.stderr).toBe(0);
    expect(collected.stdout).toContain('ENSEMBLE (mean)');
    expect(summaryOf(onlyRun(shared))).toEqual(summaryOf(demoDir));
  }, 300_000);

  it('Ctrl-C stops cleanly (exit 130, tasks marked killed) and the run continues afterwards', async () => {
    const runs = tempDir('fer-runs-');
    const child = spawn(process.execPath, [ferBin, 'run', 'configs/demo.yaml', '--runs', runs, '--workers', '1', ...slowDemo], { cwd: repoRoot, detached: true });
    let stderr = '';
    let interrupted = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // One Ctrl-C, as a user presses it: the whole foreground process group gets SIGINT.
      if (/epoch 2\/5/.test(stderr) && !interrupted) {
        interrupted = true;
        process.kill(-child.pid!, 'SIGINT');
      }
    });
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(130);
    expect(stderr).toContain('stopping: running tasks end after their current batch');
    expect(stderr).not.toMatch(STACK_TRACE);
    const run = onlyRun(runs);
    const status = JSON.parse(readFileSync(path.join(run, 'tasks', 'tiny-1', 'fold-0', 'status.json'), 'utf8')) as { state: string };
    expect(status.state).toBe('killed');
    expect((JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8')) as { state: string }).state).toBe('killed');
    const again = await runFer(['run', 'configs/demo.yaml', '--runs', runs, '--workers', '1', ...slowDemo]);
    expect(again.code, again.stderr).toBe(0);
  }, 600_000);
});
