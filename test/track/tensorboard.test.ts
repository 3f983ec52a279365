import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, readFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSummaryWriters } from '../../src/backend/summary-writer.js';
import { journalFile, JournalWriter, readJournal } from '../../src/track/journal.js';
import { deliveryStateFile } from '../../src/track/sink.js';
import type { MlflowClient } from '../../src/track/sinks/mlflow/client.js';
import { readScalars } from '../../src/track/sinks/tensorboard/event-file.js';
import { TensorboardSink } from '../../src/track/sinks/tensorboard/sink.js';
import { ferBin, killBeforeJournaled, repoRoot, runFer } from '../helpers/cli.js';
import { tempDir } from '../helpers/data.js';
import { experimentContent, mlflowRequired, paramsOf, startMlflow, tagsOf, type MlflowServer } from '../helpers/mlflow.js';
import { nativeAvailable, readTensorboard, tensorboardSkipReason, type TensorboardScalars } from '../helpers/tensorboard.js';

/**
 * The TensorBoard sink: a run's metrics written as TensorFlow event files through tfjs-node, read
 * back by TensorBoard's own reader (PyPI `tensorboard`, in the MLflow test virtualenv), and
 * compared with what the real MLflow server got for the same run.
 */
const onlyRunDir = (runs: string) => {
  const experiment = path.join(runs, 'demo');
  return path.join(experiment, readdirSync(experiment).find((d) => d.startsWith('run-'))!);
};
const eventFiles = (dir: string): string[] =>
  existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => path.basename(f).startsWith('events.out.tfevents.')).sort() : [];

/** Every metric of every run of an experiment as MLflow holds it, keyed by fer's run key: points sorted by step. */
async function mlflowScalars(client: MlflowClient, experiment: string): Promise<Record<string, Record<string, { step: number; value: number }[]>>> {
  const found = await client.getExperimentByName(experiment);
  expect(found, `experiment ${experiment}`).toBeDefined();
  const out: Record<string, Record<string, { step: number; value: number }[]>> = {};
  for (const run of await client.searchRuns([found!.experiment_id], '')) {
    const metrics: Record<string, { step: number; value: number }[]> = {};
    for (const m of run.data.metrics ?? []) {
      metrics[m.key] = (await client.metricHistory(run.info.run_id, m.key)).map((p) => ({ step: p.step, value: p.value })).sort((a, b) => a.step - b.step);
    }
    out[tagsOf(run)['fer.key'] ?? run.info.run_name!] = metrics;
  }
  return out;
}

/** The TensorBoard runs of one fer run, keyed as MLflow names them (the config's name for the parent, the task key for a child). */
function byMlflowName(scalars: TensorboardScalars, runDir: string, parentName: string): Record<string, Record<string, { step: number; value: number }[]>> {
  const prefix = `demo/${path.basename(runDir)}/`;
  const out: Record<string, Record<string, { step: number; value: number }[]>> = {};
  for (const [run, tags] of Object.entries(scalars)) {
    expect(run.startsWith(prefix), run).toBe(true);
    const key = run.slice(prefix.length);
    out[key === 'parent' ? parentName : key] = tags;
  }
  return out;
}

/** Same runs, keys and steps, and values equal to MLflow's at float32 (TensorBoard's scalar type). */
function expectSameScalars(tensorboard: Record<string, Record<string, { step: number; value: number }[]>>, mlflow: Record<string, Record<string, { step: number; value: number }[]>>): void {
  expect(Object.keys(tensorboard).sort()).toEqual(Object.keys(mlflow).sort());
  for (const [run, metrics] of Object.entries(mlflow)) {
    expect(Object.keys(tensorboard[run]!).sort(), run).toEqual(Object.keys(metrics).sort());
    for (const [key, points] of Object.entries(metrics)) {
      expect(tensorboard[run]![key], `${run} ${key}`).toEqual(points.map((p) => ({ step: p.step, value: Math.fround(p.value) })));
    }
  }
}

/**
 * fer installed as a user with the wasm backend only would have it: the built package with every
 * dependency but @tensorflow/tfjs-node(-gpu). The packages are links to this repository's, the
 * package itself a copy (a link would resolve back to a node_modules that has tfjs-node).
 */
function installWithoutNative(): string {
  const root = tempDir('fer-wasm-only-');
  const modules = path.join(repoRoot, 'node_modules');
  mkdirSync(path.join(root, 'node_modules', '@tensorflow'), { recursive: true });
  for (const name of readdirSync(modules)) if (name !== '@tensorflow') symlinkSync(path.join(modules, name), path.join(root, 'node_modules', name));
  for (const name of readdirSync(path.join(modules, '@tensorflow'))) {
    if (!name.startsWith('tfjs-node')) symlinkSync(path.join(modules, '@tensorflow', name), path.join(root, 'node_modules', '@tensorflow', name));
  }
  for (const part of ['bin', 'dist', 'configs', 'package.json']) cpSync(path.join(repoRoot, part), path.join(root, part), { recursive: true });
  return root;
}

/** No TensorBoard run has a tag with a step twice (TensorBoard would draw a zig-zag). */
function expectNoRepeatedStep(scalars: TensorboardScalars): void {
  for (const [run, tags] of Object.entries(scalars)) {
    for (const [tag, points] of Object.entries(tags)) {
      const steps = points.map((p) => p.step);
      expect(new Set(steps).size, `${run} ${tag}: steps ${steps.join(',')}`).toBe(steps.length);
    }
  }
}

// One visible line when they cannot run here (CI sets FER_REQUIRE_MLFLOW=1, which turns it into a failure below).
if (tensorboardSkipReason) console.warn(`TensorBoard sink tests skipped: ${tensorboardSkipReason}`);

describe('the TensorBoard sink can be tested here', () => {
  it.runIf(mlflowRequired)('the native backend and tensorboard in the test virtualenv are there (FER_REQUIRE_MLFLOW=1)', () => {
    expect(tensorboardSkipReason).toBeUndefined();
  });
  it('fer sync --to names a destination fer knows, or says which it takes', async () => {
    const result = await runFer(['sync', 'runs/none', '--to', 'ftp://example/runs']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('not a destination fer knows');
    expect(result.stderr).toContain('tensorboard:<folder>');
    expect(result.stderr).toContain('http(s)://<host>:<port>');
  });
});

describe.skipIf(!nativeAvailable)(`event files written through tfjs-node${nativeAvailable ? '' : ' (skipped: no native TensorFlow backend, fer setup native)'}`, () => {
  it("are read back by fer's own reader, which stops at a record cut short", async () => {
    const writers = await loadSummaryWriters();
    if (!writers.available) throw new Error(writers.reason);
    const dir = tempDir('fer-tb-events-');
    const writer = writers.open(dir);
    for (let step = 1; step <= 5; step++) writer.scalar('loss', 1 / step, step);
    writer.scalar('test_recall/angry', 0.1, 0);
    writer.flush();
    const expected = [...[1, 2, 3, 4, 5].map((step) => ({ tag: 'loss', step, value: Math.fround(1 / step) })), { tag: 'test_recall/angry', step: 0, value: Math.fround(0.1) }];
    expect(readScalars(dir)).toEqual(expected);
    const [file] = eventFiles(dir);
    truncateSync(path.join(dir, file!), statSync(path.join(dir, file!)).size - 3);
    expect(readScalars(dir)).toEqual(expected.slice(0, -1));
  });

  it('a replayed journal writes no (tag, step) twice, whatever the cursor says', async () => {
    const runDir = path.join(tempDir('fer-tb-replay-'), 'demo', 'run-0123456789ab');
    const logdir = tempDir('fer-tb-logdir-');
    const file = journalFile(runDir, 'main');
    const writer = new JournalWriter(file);
    writer.append({ type: 'open', run: 'parent', name: 'demo', experiment: 'demo', startTime: 1, uid: 'u', tags: {} });
    writer.append({ type: 'open', run: 'm-1/fold-0', name: 'm-1/fold-0', experiment: 'demo', parent: 'parent', startTime: 1, uid: 'u', tags: {} });
    for (let step = 1; step <= 3; step++) writer.append({ type: 'metrics', run: 'm-1/fold-0', points: [{ key: 'loss', value: 2 - step / 10, step, timestamp: step }] });
    const sink = new TensorboardSink(logdir);
    const read = () => readScalars(path.join(logdir, 'demo', 'run-0123456789ab', 'm-1', 'fold-0')).map((p) => `${p.tag}@${p.step}`);
    expect((await sink.open({ runDir, journalFile: file }).deliver()).delivered).toBe(5);
    expect(read()).toEqual(['loss@1', 'loss@2', 'loss@3']);
    // The delivery state lost (a crash after the writer flushed, before the cursor was written): a replay adds nothing.
    rmSync(deliveryStateFile(file, sink.target));
    await sink.open({ runDir, journalFile: file }).deliver();
    expect(read()).toEqual(['loss@1', 'loss@2', 'loss@3']);
    // A resumed task journals a step again with another value (its timing, say): the first one stays.
    writer.append({ type: 'metrics', run: 'm-1/fold-0', points: [{ key: 'loss', value: 9, step: 3, timestamp: 9 }, { key: 'loss', value: 1.6, step: 4, timestamp: 10 }] });
    writer.close();
    await sink.open({ runDir, journalFile: file }).deliver();
    expect(read()).toEqual(['loss@1', 'loss@2', 'loss@3', 'loss@4']);
    expect(readScalars(path.join(logdir, 'demo', 'run-0123456789ab', 'm-1', 'fold-0')).find((p) => p.step === 3)?.value).toBe(Math.fround(1.7));
    expect(readJournal(file)).toHaveLength(6);
  });
});

describe.skipIf(tensorboardSkipReason !== undefined)(`fer run with tracking.tensorboard and MLflow${tensorboardSkipReason ? ` (skipped: ${tensorboardSkipReason})` : ''}`, () => {
  let server: MlflowServer;
  let client: MlflowClient;
  let runs: string;
  let logdir: string;
  let first: Awaited<ReturnType<typeof runFer>>;

  beforeAll(async () => {
    server = await startMlflow();
    client = server.client();
    runs = tempDir('fer-tb-runs-');
    logdir = tempDir('fer-tb-');
    first = await runFer(['run', 'configs/demo.yaml', '--runs', runs, '--set', `tracking.tensorboard=${logdir}`], { env: { MLFLOW_TRACKING_URI: server.uri, MLFLOW_EXPERIMENT_NAME: 'tb-demo' } });
  }, 300_000);
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  it('TensorBoard reads the same scalars, names, steps and values as MLflow got, run by run', async () => {
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`tracking: MLflow ${server.uri} (from MLFLOW_TRACKING_URI), experiment "tb-demo"; TensorBoard ${logdir} (from tracking.tensorboard)`);
    expect(first.stderr).toContain(`TensorBoard: tensorboard --logdir ${logdir}`);
    const runDir = onlyRunDir(runs);
    const scalars = await readTensorboard(logdir);
    expect(Object.keys(scalars).sort()).toEqual(['parent', 'tiny-1/fold-0', 'tiny-1/fold-1', 'tiny-2/fold-0', 'tiny-2/fold-1'].map((k) => `demo/${path.basename(runDir)}/${k}`));
    expectNoRepeatedStep(scalars);
    const mlflow = await mlflowScalars(client, 'tb-demo');
    expect(mlflow['tiny-1/fold-0']!.loss!.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(Object.keys(mlflow.parent!)).toContain('test_recall/happy');
    expectSameScalars(byMlflowName(scalars, runDir, 'parent'), mlflow);
  });

  it('a replay after the delivery state was lost adds nothing to the event files', async () => {
    const runDir = onlyRunDir(runs);
    const before = await readTensorboard(logdir);
    const files = eventFiles(logdir);
    const journal = path.join(runDir, 'tracking', 'journal-main.jsonl');
    rmSync(deliveryStateFile(journal, `tensorboard:${logdir}`));
    const sync = await runFer(['sync', runDir, '--to', `tensorboard:${logdir}`, '--json'], { env: { MLFLOW_TRACKING_URI: '' } });
    expect(sync.code, sync.stderr).toBe(0);
    const report = JSON.parse(sync.stdout) as { uri: string; runs: { journals: { delivered: number; pending: number }[] }[] };
    expect(report.uri).toBe(`tensorboard:${logdir}`);
    expect(report.runs[0]!.journals[0]!.delivered).toBeGreaterThan(0);
    expect(report.runs[0]!.journals[0]!.pending).toBe(0);
    expect(await readTensorboard(logdir)).toEqual(before);
    expect(eventFiles(logdir)).toEqual(files);
    // Two TensorBoard reads and a sync: over a minute on a loaded 2-core machine.
  }, 180_000);

  it('a run killed mid-training and run again writes every step once, in order', async () => {
    const cut = tempDir('fer-tb-cut-');
    const cutLog = tempDir('fer-tb-cut-log-');
    // The demo made a little slower, so that the kill lands mid-run.
    const args = ['run', 'configs/demo.yaml', '--runs', cut, '--workers', '1', '--set', 'data.source.synthetic.rows_per_class=250', '--set', 'training.epochs=5', '--set', 'training.batch_size=16', '--set', `tracking.tensorboard=${cutLog}`];
    const env = { ...process.env, NO_COLOR: '1', MLFLOW_TRACKING_URI: '' };
    const child = spawn(process.execPath, [ferBin, ...args], { cwd: repoRoot, env, detached: true, stdio: 'ignore' });
    // Killed with epoch 2 checkpointed and in metrics.json but not yet journaled (what a loaded
    // machine did by chance): the rerun resumes after epoch 2 and must still journal, and so write,
    // step 2 before steps 3 to 5.
    await killBeforeJournaled(child, cut, 'demo', 'tiny-1/fold-0', 2);
    const runDir = onlyRunDir(cut);
    const journaledLoss = () =>
      readJournal(path.join(runDir, 'tracking', 'journal-main.jsonl')).flatMap((e) => (e.type === 'metrics' && e.run === 'tiny-1/fold-0' ? e.points.filter((p) => p.key === 'loss').map((p) => p.step) : []));
    expect(journaledLoss(), 'the kill came after epoch 2 was journaled').not.toContain(2);
    const resumed = await runFer(args, { env: { MLFLOW_TRACKING_URI: '' } });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resumed after epoch 2/);
    expect(journaledLoss()).toEqual([1, 2, 3, 4, 5]);
    const scalars = await readTensorboard(cutLog);
    expectNoRepeatedStep(scalars);
    // Every step of every task is there once, with the value the journal recorded first.
    const first = new Map<string, number>();
    for (const entry of readJournal(path.join(runDir, 'tracking', 'journal-main.jsonl'))) {
      if (entry.type !== 'metrics') continue;
      for (const p of entry.points) if (!first.has(`${entry.run} ${p.key} ${p.step}`)) first.set(`${entry.run} ${p.key} ${p.step}`, p.value);
    }
    const byName = byMlflowName(scalars, runDir, 'parent');
    for (const task of ['tiny-1/fold-0', 'tiny-1/fold-1', 'tiny-2/fold-0', 'tiny-2/fold-1']) {
      for (const key of ['loss', 'val_accuracy', 'epoch_seconds']) expect(byName[task]![key]!.map((p) => p.step), `${task} ${key}`).toEqual([1, 2, 3, 4, 5]);
    }
    let points = 0;
    for (const [run, tags] of Object.entries(byName)) {
      for (const [key, series] of Object.entries(tags)) {
        for (const p of series) {
          expect(p.value, `${run} ${key} ${p.step}`).toBe(Math.fround(first.get(`${run} ${key} ${p.step}`)!));
          points++;
        }
      }
    }
    expect(points).toBe(first.size);
  }, 600_000);

  it('without the native backend the run says so once, keeps the events, and fer sync writes them later', async () => {
    const install = installWithoutNative();
    const runs = tempDir('fer-tb-wasm-runs-');
    const log = tempDir('fer-tb-wasm-log-');
    const run = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(install, 'bin', 'fer.js'), 'run', 'configs/demo.yaml', '--runs', runs, '--set', 'training.epochs=2', '--set', `tracking.tensorboard=${log}`], {
        cwd: install,
        env: { ...process.env, NO_COLOR: '1', MLFLOW_TRACKING_URI: '' },
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('backend wasm');
    // Once, with the way to the native backend (an install whose set-up step did not run sees this).
    expect(run.stderr.match(/using wasm: .*; for the native backend \(several times faster\): npx fer setup native/g), run.stderr).toHaveLength(1);
    expect(run.stderr.match(/TensorBoard delivery stopped: writing event files to .* needs the native TensorFlow backend/g), run.stderr).toHaveLength(1);
    const runDir = onlyRunDir(runs);
    expect(run.stderr).toContain(`not yet in TensorBoard`);
    expect(run.stderr).toContain(`--to tensorboard:${log}`);
    expect(eventFiles(log)).toEqual([]);
    const sync = await runFer(['sync', runDir, '--to', `tensorboard:${log}`], { env: { MLFLOW_TRACKING_URI: '' } });
    expect(sync.code, sync.stderr).toBe(0);
    const scalars = byMlflowName(await readTensorboard(log), runDir, 'parent');
    expectNoRepeatedStep(await readTensorboard(log));
    const journaled = new Map<string, number>();
    for (const entry of readJournal(path.join(runDir, 'tracking', 'journal-main.jsonl'))) {
      if (entry.type === 'metrics') for (const p of entry.points) journaled.set(`${entry.run} ${p.key} ${p.step}`, p.value);
    }
    const written = new Map<string, number>(Object.entries(scalars).flatMap(([run, tags]) => Object.entries(tags).flatMap(([key, points]) => points.map((p): [string, number] => [`${run} ${key} ${p.step}`, p.value]))));
    expect(written.size).toBe(journaled.size);
    for (const [key, value] of journaled) expect(written.get(key), key).toBe(Math.fround(value));
  }, 300_000);

  it('a run recorded before sinks existed (fer 0.1.0 journal) still syncs to MLflow and to TensorBoard', async () => {
    // A run folder of the same config, its journal replaced by the one fer 0.1.0 wrote for it
    // (test/fixtures/tracking: MLflow's dataset input inside, identity and system tags as tags).
    const legacyRuns = tempDir('fer-tb-legacy-');
    const local = await runFer(['run', 'configs/demo.yaml', '--runs', legacyRuns, '--set', 'training.epochs=2'], { env: { MLFLOW_TRACKING_URI: '' } });
    expect(local.code, local.stderr).toBe(0);
    const runDir = onlyRunDir(legacyRuns);
    // First the journal written today, for comparison.
    const nowSync = await runFer(['sync', runDir, '--to', server.uri, '--experiment', 'tb-now'], { env: { MLFLOW_TRACKING_URI: '' } });
    expect(nowSync.code, nowSync.stderr).toBe(0);
    const tracking = path.join(runDir, 'tracking');
    for (const f of readdirSync(tracking)) if (f.startsWith('journal-') || f.startsWith('delivered-')) rmSync(path.join(tracking, f));
    copyFileSync(path.join(repoRoot, 'test', 'fixtures', 'tracking', 'journal-fer-0.1.0.jsonl'), path.join(tracking, 'journal-main.jsonl'));
    const sync = await runFer(['sync', runDir, '--to', server.uri, '--experiment', 'tb-legacy', '--json'], { env: { MLFLOW_TRACKING_URI: '' } });
    expect(sync.code, sync.stderr).toBe(0);
    const report = JSON.parse(sync.stdout) as { runs: { journals: { pending: number; rejected: unknown[] }[] }[] };
    expect(report.runs[0]!.journals[0]).toMatchObject({ pending: 0, rejected: [] });

    // What it shows in MLflow: the same runs, params, tags and points as the journal written today.
    const legacy = await experimentContent(client, 'tb-legacy');
    const current = await experimentContent(client, 'tb-now');
    // Params are the config as each version resolved it (fer 0.1.0 did not write every default out), so
    // they are compared with the old journal itself; everything else with today's journal.
    const shape = (content: typeof legacy) => Object.fromEntries(Object.entries(content).map(([name, run]) => [name, { ...run, params: [] as string[] }]));
    expect(shape(legacy)).toEqual(shape(current));
    const journaledParams = new Map<string, Record<string, string>>();
    for (const line of readFileSync(path.join(repoRoot, 'test', 'fixtures', 'tracking', 'journal-fer-0.1.0.jsonl'), 'utf8').split('\n').filter(Boolean)) {
      const entry = JSON.parse(line) as { type: string; run: string; params?: Record<string, string> };
      if (entry.type === 'params') journaledParams.set(entry.run, { ...journaledParams.get(entry.run), ...entry.params });
    }
    const parentName = Object.keys(legacy).find((name) => !name.includes('/'))!;
    expect(legacy[parentName]!.params).toEqual(journaledParams.get('parent'));
    expect(legacy['tiny-1/fold-0']!.params).toEqual(journaledParams.get('tiny-1/fold-0'));
    expect(legacy['tiny-1/fold-0']!.points.loss).toEqual([1, 2]);
    const found = async (experiment: string) => {
      const id = (await client.getExperimentByName(experiment))!.experiment_id;
      return (await client.searchRuns([id], '')).sort((a, b) => (a.info.run_name ?? '').localeCompare(b.info.run_name ?? ''));
    };
    const [legacyRuns2, currentRuns] = [await found('tb-legacy'), await found('tb-now')];
    // Tags that name the machine or the run's copy, and tags fer added after 0.1.0 (the CPU and the
    // kernels it chose, which epoch's weights a task kept): the old journal cannot have those.
    const machineTags = new Set(['mlflow.source.git.commit', 'fer.run_dir', 'fer.run_uid', 'fer.config_digest', 'fer.cpu', 'fer.kernels', 'fer.kept_weights']);
    for (const [i, run] of legacyRuns2.entries()) {
      const tags = tagsOf(run);
      expect(Object.keys(tags).filter((k) => !machineTags.has(k)).sort(), run.info.run_name).toEqual(Object.keys(tagsOf(currentRuns[i]!)).filter((k) => !machineTags.has(k)).sort());
      expect(tags['mlflow.user']).toBeTruthy();
      expect(tags['fer.key']).toBe(run.info.run_name === 'demo' ? 'parent' : run.info.run_name);
    }
    const parent = legacyRuns2.find((r) => r.info.run_name === 'demo')!;
    const currentParent = currentRuns.find((r) => tagsOf(r)['fer.key'] === 'parent')!;
    // Today's names carry what differs (run/run-name.ts); the old journal's are the config's name and task keys.
    expect(currentParent.info.run_name).toBe('demo training.epochs=2');
    expect(tagsOf(parent)['mlflow.note.content']).toContain('| **ensemble (mean)** |');
    // The dataset as logged then and now; today's source also names data.split.validation_fraction,
    // which fer 0.1.0 did not have (null: no validation rows held out, as then).
    type DatasetInput = { dataset: { source: string } };
    const withoutValidation = (input: DatasetInput | undefined) => {
      if (!input) return input;
      const source = JSON.parse(input.dataset.source) as { split: Record<string, unknown> };
      expect(source.split.validation_fraction ?? null).toBeNull();
      delete source.split.validation_fraction;
      return { ...input, dataset: { ...input.dataset, source: JSON.stringify(source) } };
    };
    expect(withoutValidation(parent.inputs?.dataset_inputs?.[0] as DatasetInput | undefined)).toEqual(withoutValidation(currentParent.inputs?.dataset_inputs?.[0] as DatasetInput | undefined));
    expect(paramsOf(parent)['training.epochs']).toBe('2');

    // And to TensorBoard, with the scalars MLflow got from the same journal.
    const legacyLog = tempDir('fer-tb-legacy-log-');
    const tb = await runFer(['sync', runDir, '--to', `tensorboard:${legacyLog}`], { env: { MLFLOW_TRACKING_URI: '' } });
    expect(tb.code, tb.stderr).toBe(0);
    expectSameScalars(byMlflowName(await readTensorboard(legacyLog), runDir, 'parent'), await mlflowScalars(client, 'tb-legacy'));
  }, 300_000);
});
