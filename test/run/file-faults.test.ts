import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferBin, killAtEpoch, repoRoot, runFer, STACK_TRACE } from '../helpers/cli.js';
import { dataConfig, rgbPng, tempDir, writeSyntheticFer2013Csv } from '../helpers/data.js';
import { loadDataset } from '../../src/data/load.js';

/**
 * Faults in the files of a run, each made for real on a finished or running demo run: a truncated
 * checkpoint, flipped bytes in saved weights, a truncated predictions CSV, a full disk (a real
 * tmpfs), a resume and a retry on another worker count. Each case checks that fer names the damage
 * and refuses (exit 1) or trains again, and that nothing is lost: after the repair, the results are
 * the bytes of a run that never met the fault. The table of cases is printed at the end.
 */
const quick = ['--set', 'training.epochs=3'];
const TASKS = ['tiny-1/fold-0', 'tiny-1/fold-1', 'tiny-2/fold-0', 'tiny-2/fold-1'];

const table: { fault: string; outcome: string; lost: string }[] = [];
afterAll(() => {
  if (table.length === 0) return;
  const widths = [Math.max(5, ...table.map((r) => r.fault.length)), Math.max(7, ...table.map((r) => r.outcome.length))];
  const line = (a: string, b: string, c: string) => `${a.padEnd(widths[0]!)}  ${b.padEnd(widths[1]!)}  ${c}`;
  console.log(['fault-injection table', line('fault', 'outcome', 'data lost'), ...table.map((r) => line(r.fault, r.outcome, r.lost))].join('\n'));
});

function onlyRun(runs: string): string {
  const dir = path.join(runs, 'demo');
  const entries = readdirSync(dir).filter((d) => d.startsWith('run-'));
  expect(entries).toHaveLength(1);
  return path.join(dir, entries[0]!);
}
const taskPath = (run: string, key: string, ...rest: string[]) => path.join(run, 'tasks', ...key.split('/'), ...rest);
const read = (file: string) => readFileSync(file);
const metrics = (run: string, key: string) =>
  (JSON.parse(readFileSync(taskPath(run, key, 'metrics.json'), 'utf8')) as Record<string, number>[]).map(({ seconds: _s, images_per_second: _i, ...rest }) => rest);
const ensembleOf = (run: string) => (JSON.parse(readFileSync(path.join(run, 'ensemble', 'summary.json'), 'utf8')) as { ensemble: unknown }).ensemble;
const state = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as { state: string }).state;

/** The task ends with the reference run's metrics and weights, bit for bit. */
function expectSameTask(run: string, reference: string, key: string): void {
  expect(metrics(run, key), key).toEqual(metrics(reference, key));
  expect(read(taskPath(run, key, 'model', 'weights.bin')).equals(read(taskPath(reference, key, 'model', 'weights.bin'))), `${key} weights`).toBe(true);
}

/** Removes a task's outcome (status, model, predictions) as if it had never finished; keeps its checkpoint and numerics. */
function unfinish(run: string, key: string): void {
  for (const name of ['status.json', 'status.json.sha256', 'predictions.test.csv', 'predictions.test.csv.sha256', 'predictions.validation.csv', 'predictions.validation.csv.sha256', 'model']) {
    rmSync(taskPath(run, key, name), { recursive: true, force: true });
  }
}

let reference: string;
beforeAll(async () => {
  const runs = tempDir('fer-runs-');
  const result = await runFer(['run', 'configs/demo.yaml', '--runs', runs, '--workers', '2', ...quick]);
  expect(result.code, result.stderr).toBe(0);
  reference = onlyRun(runs);
}, 300_000);

describe('damaged files are named, refused or trained again', () => {
  it('a truncated checkpoint, flipped bytes in weights and a truncated predictions CSV: named, exit 1, then repaired by a rerun', async () => {
    const runs = tempDir('fer-runs-');
    mkdirSync(path.join(runs, 'demo'));
    const run = path.join(runs, 'demo', path.basename(reference));
    cpSync(reference, run, { recursive: true });

    // 1. Flipped bytes in a saved model's weights: fer predict refuses, naming the file (it printed NaN% and exit 0).
    const weights = taskPath(run, 'tiny-1/fold-1', 'model', 'weights.bin');
    const bytes = read(weights);
    bytes.fill(0xff, 1000, 1008);
    writeFileSync(weights, bytes);
    const image = path.join(runs, 'face.png');
    writeFileSync(image, rgbPng());
    const predicted = await runFer(['predict', run, image]);
    expect(predicted.code).toBe(1);
    expect(predicted.stderr).toContain(`${weights} is damaged`);
    expect(predicted.stdout).not.toContain('NaN');
    expect(predicted.stderr).not.toMatch(STACK_TRACE);

    // 2. A predictions CSV cut in half: fer evaluate refuses, naming it (it reported on half the rows, exit 0).
    const predictions = taskPath(run, 'tiny-2/fold-0', 'predictions.test.csv');
    truncateSync(predictions, Math.floor(read(predictions).length / 2));
    const evaluated = await runFer(['evaluate', run]);
    expect(evaluated.code).toBe(1);
    expect(evaluated.stderr).toContain(`${predictions} is damaged`);
    expect(evaluated.stdout).toBe('');

    // 3. A checkpoint cut in half under a task that had not finished: the task trains from its first
    // epoch, saying so (it failed forever with "the tensor should have N values").
    unfinish(run, 'tiny-1/fold-0');
    const values = taskPath(run, 'tiny-1/fold-0', 'checkpoint', 'values.bin');
    truncateSync(values, Math.floor(read(values).length / 2));

    const rerun = await runFer(['run', 'configs/demo.yaml', '--runs', runs, '--workers', '2', ...quick]);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain(`${values} is damaged`);
    expect(rerun.stderr).toContain('training from the first epoch');
    expect(rerun.stderr).toContain(`${weights} is damaged`);
    expect(rerun.stderr).toContain(`${predictions} is damaged`);
    for (const key of TASKS) expectSameTask(run, reference, key);
    expect(ensembleOf(run)).toEqual(ensembleOf(reference));
    expect((await runFer(['predict', run, image])).code).toBe(0);
    expect((await runFer(['evaluate', run])).code).toBe(0);
    table.push(
      { fault: 'model weights: 8 bytes flipped', outcome: 'predict exit 1 naming weights.bin; rerun retrains from checkpoint', lost: 'none (weights equal)' },
      { fault: 'predictions.test.csv cut in half', outcome: 'evaluate exit 1 naming the file; rerun rewrites it', lost: 'none (ensemble equal)' },
      { fault: 'checkpoint values.bin cut in half', outcome: 'named; task trains from epoch 1', lost: 'none (weights equal)' },
    );
  }, 600_000);
});

describe('the data cache', () => {
  it('a flipped byte in the cached pixels is named and the source parsed again, not trained on', async () => {
    const data = dataConfig({ csv: writeSyntheticFer2013Csv(5) });
    const first = await loadDataset({ data, seed: 1 });
    expect(first.cached).toBe(false);
    const file = first.cacheFile!;
    const bytes = read(file);
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
    writeFileSync(file, bytes);
    const heard: string[] = [];
    const progress = { update: () => {}, done: (_task: string, message: string) => heard.push(message) };
    const second = await loadDataset({ data, seed: 1, progress });
    expect(second.cached).toBe(false);
    expect(heard.join('\n')).toContain(`${file} is damaged`);
    expect(second.dataset.digest).toBe(first.dataset.digest);
    expect(Buffer.from(second.dataset.pixels).equals(Buffer.from(first.dataset.pixels))).toBe(true);
    expect((await loadDataset({ data, seed: 1 })).cached).toBe(true);
    table.push({ fault: 'data cache: 1 pixel byte flipped', outcome: 'named; source parsed again, cache rewritten', lost: 'none (same digest and pixels)' });
  });
});

describe('a task keeps its threads and kernels', () => {
  it('a task retried alone runs with the threads it started with, and ends with the same weights', async () => {
    const runs = tempDir('fer-runs-');
    mkdirSync(path.join(runs, 'demo'));
    const run = path.join(runs, 'demo', path.basename(reference));
    cpSync(reference, run, { recursive: true });
    // Alone, the task would get every core as threads (2 here, against 1 when it first ran, which
    // changes its weights); its record (numerics.json) says what it ran with.
    unfinish(run, 'tiny-2/fold-1');
    rmSync(taskPath(run, 'tiny-2/fold-1', 'checkpoint'), { recursive: true, force: true });
    const retried = await runFer(['run', 'configs/demo.yaml', '--runs', runs, ...quick]);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stderr).toMatch(/1 worker, backend \w+/);
    expectSameTask(run, reference, 'tiny-2/fold-1');
    expect(ensembleOf(run)).toEqual(ensembleOf(reference));
    table.push({ fault: 'task retried alone (started with 2 workers)', outcome: 'runs with recorded threads and kernels', lost: 'none (weights equal)' });
  }, 300_000);

  it('a run killed with SIGKILL at 2 workers and resumed with --workers 1: resumed tasks end bit for bit as uninterrupted', async () => {
    const runs = tempDir('fer-runs-');
    const child = spawn(process.execPath, [ferBin, 'run', 'configs/demo.yaml', '--runs', runs, '--workers', '2', ...quick], { cwd: repoRoot, detached: true, stdio: 'ignore' });
    await killAtEpoch(child, runs, 'demo', 'tiny-1/fold-0', 1);
    const run = onlyRun(runs);
    const started = TASKS.filter((key) => existsSync(taskPath(run, key, 'metrics.json')));
    expect(started.length).toBeGreaterThan(0);
    const resumed = await runFer(['run', 'configs/demo.yaml', '--runs', runs, '--workers', '1', ...quick]);
    expect(resumed.code, resumed.stderr).toBe(0);
    // The tasks cut mid-run resume with the threads and kernels they started with; the others take this run's.
    for (const key of started) expectSameTask(run, reference, key);
    table.push({ fault: `SIGKILL at 2 workers, resumed with --workers 1 (${started.length} tasks cut)`, outcome: 'cut tasks resume with recorded numerics', lost: 'none (weights equal)' });
  }, 300_000);
});

/** A real full disk: a small tmpfs (needs root and mount; CI runs as root). Undefined when it mounted. */
function mountTmpfs(dir: string, size: string): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `mount -t tmpfs failed: ${(error as { stderr?: Buffer }).stderr?.toString().trim() || (error as Error).message}`;
  }
}

/** Whether a tmpfs can be mounted here: tried once and unmounted at once (a skipped test leaves nothing mounted). */
function tmpfsUnavailable(): string | undefined {
  const probe = tempDir('fer-full-probe-');
  const cannot = mountTmpfs(probe, '1m');
  if (!cannot) execFileSync('umount', [probe]);
  return cannot;
}

describe('a full disk', () => {
  const cannot = tmpfsUnavailable();
  if (cannot) console.warn(`full-disk test skipped: ${cannot} (it needs root and mount -t tmpfs)`);

  it.skipIf(cannot !== undefined)('stops with one line naming the path and space, marks the run and tasks, keeps what finished, resumes when space is freed', async () => {
    const mountPoint = tempDir('fer-full-');
    const failed = mountTmpfs(mountPoint, '3m');
    if (failed) throw new Error(failed);
    try {
      await fullDisk(mountPoint);
    } finally {
      execFileSync('umount', [mountPoint]);
    }
  }, 600_000);
});

async function fullDisk(mountPoint: string): Promise<void> {
    const runs = path.join(mountPoint, 'runs');
    const full = await runFer(['run', 'configs/demo.yaml', '--runs', runs, '--workers', '2', ...quick]);
    expect(full.code, full.stderr).toBe(1);
    expect(full.stderr).not.toMatch(STACK_TRACE);
    const errorLines = full.stderr.split('\n').filter((l) => /^error: /.test(l));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(new RegExp(`^error: no space left on device writing ${mountPoint}/runs/\\S+: needs \\d`));
    const run = onlyRun(runs);
    expect(state(path.join(run, 'run.json'))).toBe('failed');
    const states = TASKS.map((key) => (existsSync(taskPath(run, key, 'status.json')) ? state(taskPath(run, key, 'status.json')) : 'not started'));
    expect(states).not.toContain('running');
    const finished = TASKS.filter((_, i) => states[i] === 'finished');
    for (const key of finished) expectSameTask(run, reference, key);

    // Space freed (the tmpfs made larger): the same command finishes the run, as if nothing happened.
    execFileSync('mount', ['-o', 'remount,size=32m', mountPoint]);
    const resumed = await runFer(['run', 'configs/demo.yaml', '--runs', runs, '--workers', '2', ...quick]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`${finished.length} already done`);
    for (const key of TASKS) expectSameTask(run, reference, key);
    expect(ensembleOf(run)).toEqual(ensembleOf(reference));
    // The tracking journal ends every task and the parent (what it could not take then is recorded now).
    const journal = readFileSync(path.join(run, 'tracking', 'journal-main.jsonl'), 'utf8')
      .split('\n')
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as { type: string; run: string; status?: string }];
        } catch {
          return [];
        }
      });
    const closed = (key: string) => journal.filter((e) => e.type === 'close' && e.run === key).at(-1)?.status;
    for (const key of TASKS) expect(closed(key), key).toBe('FINISHED');
    expect(closed('parent')).toBe('FINISHED');
    table.push({ fault: `disk full (tmpfs 3 MiB; ${finished.length} tasks had finished; task states ${states.join(', ')})`, outcome: 'exit 1, one line; run failed; rerun after space freed finishes', lost: 'none (weights and ensemble equal)' });
}
