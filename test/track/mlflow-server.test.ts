import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { describeKernelChoice, kernelRecord } from '../../src/backend/kernel-choice.js';
import { deliveryStateFile, JournalDelivery } from '../../src/track/sinks/mlflow/delivery.js';
import { journalFiles, readJournal } from '../../src/track/journal.js';
import { MlflowClient } from '../../src/track/sinks/mlflow/client.js';
import { ferBin, repoRoot, runFer, STACK_TRACE } from '../helpers/cli.js';
import { experimentContent, mlflowAvailable, mlflowRequired, runsOf, startMlflow, tagsOf, paramsOf, type MlflowServer } from '../helpers/mlflow.js';

/**
 * fer against a real MLflow server (installed from PyPI by .ci/run, started here on 127.0.0.1):
 * everything is checked through MLflow's REST API, as the UI would read it.
 */
const tempDir = (prefix: string) => mkdtempSync(path.join(os.tmpdir(), prefix));
const onlyRunDir = (runs: string) => {
  const experiment = path.join(runs, 'demo');
  return path.join(experiment, readdirSync(experiment)[0]!);
};

describe('an MLflow server is there to test against', () => {
  it.runIf(mlflowRequired)('the mlflow virtualenv exists (scripts/mlflow-venv.sh)', () => {
    expect(mlflowAvailable).toBe(true);
  });
});


// Tests that train with `fer run` take the time of real training, which depends on the CPU and on
// the machine's load (the right-credentials run took 43-60 s on a loaded 2-core EPYC): they get
// 240 s, as the first run does, rather than the 60 s default.
describe.skipIf(!mlflowAvailable)('fer run with MLFLOW_TRACKING_URI', () => {
  let server: MlflowServer;
  let client: MlflowClient;
  let runsA: string;
  let firstRun: Awaited<ReturnType<typeof runFer>>;
  const env = (experiment: string) => ({ MLFLOW_TRACKING_URI: server.uri, MLFLOW_EXPERIMENT_NAME: experiment });

  beforeAll(async () => {
    server = await startMlflow();
    client = server.client();
    runsA = tempDir('fer-mlflow-a-');
    firstRun = await runFer(['run', 'configs/demo.yaml', '--runs', runsA], { env: env('demo-a') });
  }, 240_000);
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  it('lands a parent with every task nested under it, each epoch point exactly once', async () => {
    expect(firstRun.code, firstRun.stderr).toBe(0);
    expect(firstRun.stderr).toContain(`tracking: MLflow ${server.uri} (from MLFLOW_TRACKING_URI), experiment "demo-a"`);
    const { parent, children } = await runsOf(client, 'demo-a');
    // Names a person can tell apart: the config's name and the run folder's short id; children under it, fold numbers as fer.fold holds them.
    const parentName = `demo ${path.basename(onlyRunDir(runsA)).slice('run-'.length, 'run-'.length + 7)}`;
    expect(parent.info.run_name).toBe(parentName);
    expect(parent.info.status).toBe('FINISHED');
    expect(children.map((c) => c.info.run_name).sort()).toEqual(['tiny-1/fold-0', 'tiny-1/fold-1', 'tiny-2/fold-0', 'tiny-2/fold-1'].map((key) => `${parentName}/${key}`));
    for (const child of children) expect(child.info.run_name!.endsWith(`/fold-${tagsOf(child)['fer.fold']}`), child.info.run_name).toBe(true);
    for (const child of children) {
      expect(tagsOf(child)['mlflow.parentRunId']).toBe(parent.info.run_id);
      expect(child.info.status).toBe('FINISHED');
      expect(paramsOf(child)).toMatchObject({ model: 'tiny', epochs: '10', batch_size: '32' });
      expect(paramsOf(child).seed).toMatch(/^\d+$/);
      for (const key of ['loss', 'accuracy', 'val_loss', 'val_accuracy', 'learning_rate', 'images_per_second']) {
        const steps = (await client.metricHistory(child.info.run_id, key)).map((p) => p.step).sort((a, b) => a - b);
        expect(steps, `${child.info.run_name} ${key}`).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      }
    }
    // The resolved config as dotted params, the run's identity and provenance as tags.
    const params = paramsOf(parent);
    expect(params['training.epochs']).toBe('10');
    expect(params['training.optimizer.adam.learning_rate']).toBe('0.003');
    expect(params['folds.k']).toBe('2');
    const tags = tagsOf(parent);
    expect(tags['mlflow.source.name']).toBe(path.join('configs', 'demo.yaml'));
    expect(tags['fer.backend']).toMatch(/^(tensorflow|wasm|cpu)$/);
    // On the native backend, the kernels the numbers come from (FER_KERNELS, else the CPU) and the CPU.
    const kernels = kernelRecord();
    expect(tags['fer.kernels']).toBe(tags['fer.backend'] === 'tensorflow' ? describeKernelChoice(kernels) : undefined);
    expect(tags['fer.cpu']).toBe(tags['fer.backend'] === 'tensorflow' ? kernels.cpu : undefined);
    expect(tags['fer.version']).toBeTruthy();
    expect(tags['fer.data_digest']).toMatch(/^[0-9a-f]{64}$/);
    expect(tags['mlflow.note.content']).toContain('| **ensemble (mean)** |');
    // Ensemble metrics on the parent, and the dataset as an input.
    const metrics = Object.fromEntries((parent.data.metrics ?? []).map((m) => [m.key, m.value]));
    const summary = JSON.parse(readFileSync(path.join(onlyRunDir(runsA), 'ensemble', 'summary.json'), 'utf8')) as { ensemble: { test: { accuracy: number; macroF1: number } } };
    expect(metrics.test_accuracy).toBeCloseTo(summary.ensemble.test.accuracy, 10);
    expect(metrics.test_macro_f1).toBeCloseTo(summary.ensemble.test.macroF1, 10);
    expect(Object.keys(metrics).filter((k) => k.startsWith('test_recall/'))).toHaveLength(7);
    expect(metrics.oof_accuracy).toBeGreaterThan(0);
    const input = parent.inputs?.dataset_inputs?.[0]?.dataset;
    expect(input?.digest).toBe(tags['fer.data_digest']!.slice(0, 32));
    expect(JSON.parse(input!.profile!)).toMatchObject({ rows: 1120, splits: { train: 560, test: 560 } });
  });

  it('records which weights each task kept and why, and the test figure without test-time views beside the one with them', async () => {
    const runs = tempDir('fer-mlflow-tta-');
    const overrides = ['--set', '~folds', '--set', 'data.split.validation_fraction=0.25', '--set', 'evaluation.tta=[flip]', '--set', 'training.epochs=3', '--set', 'training.early_stopping={monitor: val_accuracy, patience: 5}', '--set', 'ensemble.members=[{model: tiny}]'];
    const result = await runFer(['run', 'configs/demo.yaml', '--runs', runs, ...overrides], { env: env('demo-tta') });
    expect(result.code, result.stderr).toBe(0);
    const { parent, children } = await runsOf(client, 'demo-tta');
    const summary = JSON.parse(readFileSync(path.join(onlyRunDir(runs), 'ensemble', 'summary.json'), 'utf8')) as { ensemble: { test: { accuracy: number } }; views: { withoutViews: { test: { accuracy: number } } } };
    const metrics = Object.fromEntries((parent.data.metrics ?? []).map((m) => [m.key, m.value]));
    expect(metrics.test_accuracy).toBeCloseTo(summary.ensemble.test.accuracy, 10);
    expect(metrics['plain/test_accuracy']).toBeCloseTo(summary.views.withoutViews.test.accuracy, 10);
    expect(tagsOf(parent)['mlflow.note.content']).toContain('| ensemble without test-time views |');
    expect(children).toHaveLength(1);
    const child = children[0]!;
    expect(tagsOf(child)['fer.kept_weights']).toMatch(/^epoch \d: the best val_accuracy \(\d\.\d{4}\) of the 3 epochs, kept by early_stopping$/);
    const childMetrics = Object.fromEntries((child.data.metrics ?? []).map((m) => [m.key, m.value]));
    expect(childMetrics.final_test_accuracy_plain).toBeGreaterThan(0);
    expect(childMetrics.final_test_accuracy).toBeGreaterThan(0);
  }, 240_000);

  it('uploads artifacts that download byte-identical to the run folder', async () => {
    const { parent, children } = await runsOf(client, 'demo-a');
    const runDir = onlyRunDir(runsA);
    const png = await client.downloadArtifact(parent.info.artifact_uri!, 'ensemble/confusion-matrix.png');
    expect(png.equals(readFileSync(path.join(runDir, 'ensemble', 'confusion-matrix.png')))).toBe(true);
    const resolved = await client.downloadArtifact(parent.info.artifact_uri!, 'config/config.resolved.yaml');
    expect(resolved.equals(readFileSync(path.join(runDir, 'config.resolved.yaml')))).toBe(true);
    const child = children.find((c) => tagsOf(c)['fer.key'] === 'tiny-2/fold-1')!;
    // The weights once, in the task's logged model; the run's own artifacts hold no second copy.
    const listed = (await client.listArtifacts(child.info.artifact_uri!, '')).map((f) => f.path).sort();
    expect(listed).not.toContain('model');
    const [model] = (await client.searchLoggedModels([parent.info.experiment_id], '')).filter((m) => m.info.source_run_id === child.info.run_id);
    const weights = await client.downloadArtifact(model!.info.artifact_uri, 'model/weights.bin');
    expect(weights.equals(readFileSync(path.join(runDir, 'tasks', 'tiny-2', 'fold-1', 'model', 'weights.bin')))).toBe(true);
    const csv = await client.downloadArtifact(child.info.artifact_uri!, 'metrics.csv');
    expect(csv.toString()).toBe(readFileSync(path.join(runDir, 'tasks', 'tiny-2', 'fold-1', 'metrics.csv'), 'utf8'));
  });

  it('logs the ensemble and each task as MLflow 3 logged models, with an MLmodel signature', async () => {
    const { parent, children } = await runsOf(client, 'demo-a');
    const experimentId = parent.info.experiment_id;
    const models = await client.searchLoggedModels([experimentId], '');
    const ensemble = models.filter((m) => m.info.name === 'ensemble');
    expect(ensemble).toHaveLength(1);
    expect(ensemble[0]!.info.status).toBe('LOGGED_MODEL_READY');
    expect(ensemble[0]!.info.source_run_id).toBe(parent.info.run_id);
    const mlmodel = parse((await client.downloadArtifact(ensemble[0]!.info.artifact_uri, 'MLmodel')).toString()) as { flavors: { fer: { kind: string; members: unknown[] } }; signature: { inputs: string; outputs: string } };
    expect(JSON.parse(mlmodel.signature.inputs)).toEqual([{ type: 'tensor', 'tensor-spec': { dtype: 'uint8', shape: [-1, 48, 48, 1] } }]);
    expect((JSON.parse(mlmodel.signature.outputs) as { name: string; type: string }[]).map((o) => `${o.name}:${o.type}`)).toEqual(['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'].map((c) => `${c}:float`));
    expect(mlmodel.flavors.fer.kind).toBe('ensemble');
    expect(mlmodel.flavors.fer.members).toHaveLength(2);
    // The ensemble's files as the run folder has them: fer predict reads the download.
    const runDir = onlyRunDir(runsA);
    const weights = await client.downloadArtifact(ensemble[0]!.info.artifact_uri, 'tasks/tiny-1/fold-0/model/weights.bin');
    expect(weights.equals(readFileSync(path.join(runDir, 'tasks', 'tiny-1', 'fold-0', 'model', 'weights.bin')))).toBe(true);
    // And as one stock TensorFlow.js model (fer export), usable without fer.
    const exported = JSON.parse((await client.downloadArtifact(ensemble[0]!.info.artifact_uri, 'export/model.json')).toString()) as { format: string; userDefinedMetadata: { fer: { classes: string[] } } };
    expect(exported.format).toBe('layers-model');
    expect(exported.userDefinedMetadata.fer.classes).toHaveLength(7);
    // The run page lists it among its outputs; each child has its own model of its best weights.
    const outputs = (await client.call<{ run: { outputs?: { model_outputs?: { model_id: string }[] } } }>('GET', 'mlflow/runs/get', { run_id: parent.info.run_id })).run.outputs?.model_outputs;
    expect(outputs?.map((o) => o.model_id)).toEqual([ensemble[0]!.info.model_id]);
    for (const child of children) {
      const own = models.filter((m) => m.info.source_run_id === child.info.run_id);
      expect(own.map((m) => m.info.name), child.info.run_name).toEqual(['model']);
      const files = (await client.listArtifacts(own[0]!.info.artifact_uri, '')).map((f) => f.path).sort();
      expect(files).toEqual(['MLmodel', 'model', 'preprocess.json']);
    }
  });

  it('records system metrics under MLflow names on each child, step by step', async () => {
    const { children } = await runsOf(client, 'demo-a');
    for (const child of children) {
      const cpu = (await client.metricHistory(child.info.run_id, 'system/cpu_utilization_percentage')).sort((a, b) => a.step - b.step);
      // At least a reading when the task started and one when it ended.
      expect(cpu.length, child.info.run_name).toBeGreaterThanOrEqual(2);
      expect(cpu.map((p) => p.step)).toEqual(cpu.map((_, i) => i));
      for (const p of cpu) expect(p.value).toBeGreaterThanOrEqual(0);
      for (const p of cpu) expect(p.value).toBeLessThanOrEqual(100);
      const memory = await client.metricHistory(child.info.run_id, 'system/system_memory_usage_megabytes');
      expect(memory.length).toBe(cpu.length);
      expect(memory.every((p) => p.value > 0)).toBe(true);
    }
  });

  it('fer register makes the ensemble a registry version with its test accuracy, data digest and the logged model as source', async () => {
    const runDir = onlyRunDir(runsA);
    const { parent } = await runsOf(client, 'demo-a');
    const registered = await runFer(['register', runDir, 'fer-demo-a', '--json'], { env: { MLFLOW_TRACKING_URI: server.uri } });
    expect(registered.code, registered.stderr).toBe(0);
    expect(JSON.parse(registered.stdout)).toMatchObject({ registeredModel: 'fer-demo-a', version: '1', pending: 0 });
    const summary = JSON.parse(readFileSync(path.join(runDir, 'ensemble', 'summary.json'), 'utf8')) as { ensemble: { test: { accuracy: number } } };
    const ensemble = (await client.searchLoggedModels([parent.info.experiment_id], '')).find((m) => m.info.name === 'ensemble')!;
    const versions = await client.searchModelVersions("name = 'fer-demo-a'");
    expect(versions).toHaveLength(1);
    const tags = Object.fromEntries((versions[0]!.tags ?? []).map((t) => [t.key, t.value]));
    expect(versions[0]!.source).toBe(`models:/${ensemble.info.model_id}`);
    expect(versions[0]!.run_id).toBe(parent.info.run_id);
    expect(Number(tags.test_accuracy)).toBeCloseTo(summary.ensemble.test.accuracy, 12);
    expect(tags.data_digest).toBe(tagsOf(parent)['fer.data_digest']);
    // Once only: again, and it is the same version.
    const again = await runFer(['register', runDir, 'fer-demo-a', '--json'], { env: { MLFLOW_TRACKING_URI: server.uri } });
    expect(JSON.parse(again.stdout)).toMatchObject({ version: '1' });
    expect(await client.searchModelVersions("name = 'fer-demo-a'")).toHaveLength(1);
  });

  it('tracking.register registers as the run ends; --set overrides name the parent', async () => {
    const runs = tempDir('fer-mlflow-reg-');
    const result = await runFer(['run', 'configs/demo.yaml', '--runs', runs, '--set', 'training.epochs=2', '--set', 'tracking.register=fer-demo-reg'], { env: env('demo-reg') });
    expect(result.code, result.stderr).toBe(0);
    const { parent, children } = await runsOf(client, 'demo-reg');
    expect(parent.info.run_name).toBe('demo training.epochs=2');
    expect(children.map((c) => c.info.run_name).sort()[0]).toBe('demo training.epochs=2/tiny-1/fold-0');
    const versions = await client.searchModelVersions("name = 'fer-demo-reg'");
    expect(versions.map((v) => v.run_id)).toEqual([parent.info.run_id]);
    expect(versions[0]!.source).toMatch(/^models:\/m-/);
  }, 240_000);

  it('running the same command again continues the same runs and duplicates nothing', async () => {
    const before = await experimentContent(client, 'demo-a');
    const again = await runFer(['run', 'configs/demo.yaml', '--runs', runsA], { env: env('demo-a') });
    expect(again.code, again.stderr).toBe(0);
    expect(await experimentContent(client, 'demo-a')).toEqual(before);
  });

  it('replaying a journal whose acknowledgements were lost adds no point twice', async () => {
    // A copy of the run folder, delivered to a new experiment from scratch, then again with its
    // delivery state gone (as after a crash that lost it), then with the last acknowledgement lost.
    const copy = tempDir('fer-replay-');
    cpSync(onlyRunDir(runsA), copy, { recursive: true });
    for (const f of readdirSync(path.join(copy, 'tracking'))) if (f.startsWith('delivered-')) rmSync(path.join(copy, 'tracking', f));
    const journal = journalFiles(copy)[0]!;
    const deliver = () => new JournalDelivery({ runDir: copy, journalFile: journal, client, experiment: 'demo-replay' }).deliver();
    const first = await deliver();
    expect(first.rejected).toEqual([]);
    const reference = await experimentContent(client, 'demo-replay');
    expect(reference).toEqual(await experimentContent(client, 'demo-a'));

    rmSync(deliveryStateFile(journal, client.uri));
    expect((await deliver()).rejected).toEqual([]);
    expect(await experimentContent(client, 'demo-replay')).toEqual(reference);

    const stateFile = deliveryStateFile(journal, client.uri);
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { cursor: number };
    const lastMetrics = readJournal(journal).filter((e) => e.type === 'metrics').at(-1)!;
    writeFileSync(stateFile, JSON.stringify({ ...state, cursor: lastMetrics.seq - 1 }));
    const replay = await deliver();
    expect(replay.delivered).toBeGreaterThan(0);
    expect(await experimentContent(client, 'demo-replay')).toEqual(reference);
  });

  it('a server without logged models (before MLflow 3) gets each model among its run\'s artifacts', async () => {
    // The real server behind a proxy that answers MLflow 3's logged-model endpoints as an MLflow 2 server does: 404, not JSON.
    const target = new URL(server.uri);
    const proxy = http.createServer((req, res) => {
      if (/\/logged-models|\/runs\/outputs/.test(req.url ?? '')) {
        res.writeHead(404, { 'content-type': 'text/html' }).end('<!doctype html><title>404 Not Found</title>');
        return;
      }
      const forward = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(forward);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const older = new MlflowClient({ uri: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, credentials: {} });
    try {
      const copy = tempDir('fer-mlflow2-');
      cpSync(onlyRunDir(runsA), copy, { recursive: true });
      for (const f of readdirSync(path.join(copy, 'tracking'))) if (f.startsWith('delivered-')) rmSync(path.join(copy, 'tracking', f));
      const journal = path.join(copy, 'tracking', 'journal-main.jsonl');
      const delivered = await new JournalDelivery({ runDir: copy, journalFile: journal, client: older, experiment: 'demo-mlflow2' }).deliver();
      expect(delivered.rejected).toEqual([]);
      const { parent, children } = await runsOf(client, 'demo-mlflow2');
      const listed = (await client.listArtifacts(parent.info.artifact_uri!, 'ensemble')).map((f) => f.path);
      expect(listed).toContain('ensemble/MLmodel');
      expect(listed).toContain('ensemble/tasks');
      for (const child of children) expect((await client.listArtifacts(child.info.artifact_uri!, 'model')).map((f) => f.path)).toContain('model/MLmodel');
      expect(await client.searchLoggedModels([parent.info.experiment_id], '')).toEqual([]);
    } finally {
      await older.close();
      await new Promise((resolve) => proxy.close(resolve));
    }
  }, 240_000);

  it('a server stopped mid-run and started again ends with the content of an undisturbed run', async () => {
    const runsB = tempDir('fer-mlflow-b-');
    const child = spawn(process.execPath, [ferBin, 'run', 'configs/demo.yaml', '--runs', runsB], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1', ...env('demo-b') } });
    let stderr = '';
    let stopped: Promise<void> | undefined;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!stopped && /epoch 2\/10/.test(stderr)) stopped = server.stop();
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    // Wait until the outage began, let the run go on without the server a while, then bring it back.
    while (!stopped) await new Promise((r) => setTimeout(r, 100));
    await stopped;
    await new Promise((r) => setTimeout(r, 4000));
    await server.start();
    const code = await exited;
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/unavailable/);
    expect(stderr).toMatch(/is back: journal delivered/);
    const undisturbed = await experimentContent(client, 'demo-a');
    expect(await experimentContent(client, 'demo-b')).toEqual(undisturbed);
  }, 240_000);

  it('a task whose training diverges ends FAILED with its error, and the parent says so', async () => {
    const runs = tempDir('fer-mlflow-fail-');
    const result = await runFer(['run', 'configs/demo.yaml', '--runs', runs, '--set', 'training.optimizer.adam.learning_rate=1e12', '--set', 'training.epochs=2'], { env: env('demo-fail') });
    expect(result.code).toBe(1);
    const { parent, children } = await runsOf(client, 'demo-fail');
    expect(parent.info.status).toBe('FAILED');
    expect(tagsOf(parent)['fer.error']).toContain('training diverged');
    expect(tagsOf(parent)['mlflow.note.content']).toContain('**FAILED**: 4 tasks failed.');
    expect(children).toHaveLength(4);
    for (const c of children) {
      expect(c.info.status).toBe('FAILED');
      expect(tagsOf(c)['fer.error']).toMatch(/^training diverged: the loss became (NaN|Infinity|-Infinity) at epoch 1/);
    }
  }, 240_000);

  it('a plugin layer that throws fails its tasks; they and the parent end FAILED with the error', async () => {
    const runs = tempDir('fer-mlflow-explode-');
    const result = await runFer(['run', 'test/fixtures/plugins/explode.yaml', '--runs', runs], { env: env('demo-explode') });
    expect(result.code).toBe(1);
    const { parent, children } = await runsOf(client, 'demo-explode');
    expect(parent.info.status).toBe('FAILED');
    expect(tagsOf(parent)['fer.error']).toContain('explode/layer: out of cheese');
    expect(tagsOf(parent)['mlflow.note.content']).toContain('**FAILED**: 4 tasks failed.');
    expect(children.map((c) => c.info.status)).toEqual(['FAILED', 'FAILED', 'FAILED', 'FAILED']);
    for (const c of children) expect(tagsOf(c)['fer.error']).toBe('explode/layer: out of cheese');
  }, 240_000);

  it('a plugin layer whose step cannot be recorded trains op by op, and each child run says why in fer.notices', async () => {
    const runs = tempDir('fer-mlflow-notice-');
    const result = await runFer(['run', 'test/fixtures/plugins/js-noise.yaml', '--runs', runs], { env: env('demo-notice') });
    expect(result.code, result.stderr).toBe(0);
    const said = result.stderr.split('\n').filter((line) => line.includes('training steps run op by op from here on'));
    // Once per task (two folds), not once per step or epoch.
    expect(said, result.stderr).toHaveLength(2);
    const { parent, children } = await runsOf(client, 'demo-notice');
    expect(parent.info.status).toBe('FINISHED');
    expect(children).toHaveLength(2);
    for (const c of children) {
      expect(c.info.status).toBe('FINISHED');
      expect(tagsOf(c)['fer.notices']).toMatch(/^training steps run op by op from here on: the step differs between two consecutive steps/);
    }
  }, 240_000);

  it('fer sync replays a run recorded without a server', async () => {
    const runs = tempDir('fer-mlflow-local-');
    const local = await runFer(['run', 'configs/demo.yaml', '--runs', runs, '--set', 'training.epochs=3'], { env: { MLFLOW_TRACKING_URI: '' } });
    expect(local.code, local.stderr).toBe(0);
    expect(local.stderr).toContain('tracking: local only');
    const runDir = onlyRunDir(runs);
    expect(journalFiles(runDir)).toHaveLength(1);
    const sync = await runFer(['sync', runDir, '--to', server.uri, '--experiment', 'demo-synced', '--json'], { env: { MLFLOW_TRACKING_URI: '' } });
    expect(sync.code, sync.stderr).toBe(0);
    const report = JSON.parse(sync.stdout) as { runs: { journals: { pending: number; delivered: number }[] }[] };
    expect(report.runs[0]!.journals[0]!.pending).toBe(0);
    const content = await experimentContent(client, 'demo-synced');
    expect(Object.keys(content).sort()).toEqual(['parent', 'tiny-1/fold-0', 'tiny-1/fold-1', 'tiny-2/fold-0', 'tiny-2/fold-1']);
    expect(content['tiny-1/fold-0']!.points.loss).toEqual([1, 2, 3]);
    // Twice is the same as once.
    const again = await runFer(['sync', runDir, '--to', server.uri, '--experiment', 'demo-synced'], { env: { MLFLOW_TRACKING_URI: '' } });
    expect(again.code, again.stderr).toBe(0);
    expect(await experimentContent(client, 'demo-synced')).toEqual(content);
  }, 240_000);

  it('fer runs list and show read the server', async () => {
    const list = await runFer(['runs', 'list', '--tracking-uri', server.uri, '--experiment', 'demo-a', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const runs = JSON.parse(list.stdout) as { runs: { runId: string; name: string; status: string; children: number }[] };
    expect(runs.runs).toHaveLength(1);
    expect(runs.runs[0]).toMatchObject({ name: `demo ${path.basename(onlyRunDir(runsA)).slice('run-'.length, 'run-'.length + 7)}`, status: 'FINISHED', children: 4 });
    const show = await runFer(['runs', 'show', runs.runs[0]!.runId, '--tracking-uri', server.uri]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain('tiny-2/fold-1');
    // The ensemble's test accuracy with 4 decimals, as the run computed it: 1.0000 is as valid as
    // 0.9982 (the demo reaches either, depending on the CPU's kernels).
    const shown = /test_accuracy\s+(\d\.\d{4})\b/.exec(show.stdout);
    expect(shown, show.stdout).not.toBeNull();
    const summary = JSON.parse(readFileSync(path.join(onlyRunDir(runsA), 'ensemble', 'summary.json'), 'utf8')) as { ensemble: { test: { accuracy: number } } };
    expect(shown![1]).toBe(summary.ensemble.test.accuracy.toFixed(4));
  });
});

describe.skipIf(!mlflowAvailable)('an MLflow server with basic auth', () => {
  let server: MlflowServer;
  beforeAll(async () => {
    server = await startMlflow({ basicAuth: true });
  }, 240_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('wrong credentials stop the run at once with the variables to set', async () => {
    const runs = tempDir('fer-mlflow-auth-');
    const result = await runFer(['run', 'configs/demo.yaml', '--runs', runs, '--set', 'training.epochs=1'], {
      env: { MLFLOW_TRACKING_URI: server.uri, MLFLOW_TRACKING_USERNAME: 'admin', MLFLOW_TRACKING_PASSWORD: 'not-the-password' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/refused the credentials \(HTTP 401/);
    expect(result.stderr).toContain('MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD');
    expect(result.stderr).not.toContain('not-the-password');
    expect(result.stderr).not.toMatch(STACK_TRACE);
    // Nothing was trained for a run that could not be recorded.
    expect(existsSync(path.join(runs, 'demo')) ? readdirSync(path.join(runs, 'demo')).flatMap((d) => (existsSync(path.join(runs, 'demo', d, 'tasks')) ? [d] : [])) : []).toEqual([]);

    const none = await runFer(['run', 'configs/demo.yaml', '--runs', runs, '--set', 'training.epochs=1'], { env: { MLFLOW_TRACKING_URI: server.uri } });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('this server asks for credentials: set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD');
  });

  it('the right credentials work, and never appear in params or tags', async () => {
    const runs = tempDir('fer-mlflow-auth-ok-');
    const result = await runFer(['run', 'configs/demo.yaml', '--runs', runs, '--set', 'training.epochs=2'], {
      env: { MLFLOW_TRACKING_URI: server.uri, MLFLOW_TRACKING_USERNAME: server.auth!.username, MLFLOW_TRACKING_PASSWORD: server.auth!.password, MLFLOW_EXPERIMENT_NAME: 'auth-ok' },
    });
    expect(result.code, result.stderr).toBe(0);
    const client = server.client();
    const { parent, children } = await runsOf(client, 'auth-ok');
    expect(parent.info.status).toBe('FINISHED');
    expect(children).toHaveLength(4);
    const everything = JSON.stringify([parent, ...children]) + result.stderr + result.stdout + readFileSync(journalFiles(onlyRunDir(runs))[0]!, 'utf8');
    expect(everything).not.toContain(server.auth!.password);
    await client.close();
  }, 240_000);
});
