import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { journalFile, journalFiles, JournalWriter, readJournal } from '../../src/track/journal.js';
import type { MlflowClient, Run } from '../../src/track/sinks/mlflow/client.js';
import { deliveryStateFile, JournalDelivery, readDeliveryState } from '../../src/track/sinks/mlflow/delivery.js';
import { runFer, STACK_TRACE } from '../helpers/cli.js';
import { mlflowAvailable, paramsOf, runsOf, startMlflow, tagsOf, type MlflowServer } from '../helpers/mlflow.js';

/**
 * MLflow servers that do not proxy artifacts (--no-serve-artifacts), real ones: with a file: artifact
 * root fer writes the artifacts itself, as MLflow's Python client does; with an s3: root fer cannot
 * write, everything else is delivered and the artifacts wait in the journal, and the exit code and
 * the message say why.
 */
const tempDir = (prefix: string) => mkdtempSync(path.join(os.tmpdir(), prefix));
const onlyRunDir = (runs: string) => {
  const experiment = path.join(runs, 'demo');
  return path.join(experiment, readdirSync(experiment)[0]!);
};


/** What the server lists under a run's artifacts (its own list API, which reads the artifact root itself). */
async function listed(client: MlflowClient, runId: string, dir = ''): Promise<string[]> {
  const r = await client.call<{ files?: { path: string; is_dir?: boolean }[] }>('GET', 'mlflow/artifacts/list', { run_id: runId, ...(dir ? { path: dir } : {}) });
  const out: string[] = [];
  for (const f of r.files ?? []) {
    if (f.is_dir) out.push(...(await listed(client, runId, f.path)));
    else out.push(f.path);
  }
  return out.sort();
}

/** The demo, fast: two epochs are enough to have every kind of journal entry. */
const demo = (runs: string) => ['run', 'configs/demo.yaml', '--runs', runs, '--set', 'training.epochs=2'];

async function expectTracked(client: MlflowClient, experiment: string): Promise<{ parent: Run; children: Run[] }> {
  const { parent, children } = await runsOf(client, experiment);
  expect(parent.info.status).toBe('FINISHED');
  expect(paramsOf(parent)['training.epochs']).toBe('2');
  expect((parent.data.metrics ?? []).map((m) => m.key)).toContain('test_accuracy');
  expect(children).toHaveLength(4);
  for (const child of children) {
    expect(child.info.status, child.info.run_name).toBe('FINISHED');
    expect(paramsOf(child)).toMatchObject({ model: 'tiny', epochs: '2' });
    expect((await client.metricHistory(child.info.run_id, 'val_accuracy')).map((p) => p.step).sort()).toEqual([1, 2]);
  }
  return { parent, children };
}

describe.skipIf(!mlflowAvailable)('MLflow servers that do not proxy artifacts', () => {
  let local: MlflowServer;
  let localClient: MlflowClient;
  let remote: MlflowServer;
  let remoteClient: MlflowClient;
  let root: string;

  beforeAll(async () => {
    root = tempDir('fer-artifact-root-');
    local = await startMlflow({ artifactRoot: pathToFileURL(root).href });
    localClient = local.client();
    remote = await startMlflow({ artifactRoot: 's3://fer-test-bucket/x' });
    remoteClient = remote.client();
  }, 240_000);
  afterAll(async () => {
    await localClient?.close();
    await remoteClient?.close();
    await local?.stop();
    await remote?.stop();
  });

  it('file: artifact root: fer writes the artifacts under it, where the server lists them', async () => {
    const runs = tempDir('fer-file-root-runs-');
    const result = await runFer(demo(runs), { env: { MLFLOW_TRACKING_URI: local.uri, MLFLOW_EXPERIMENT_NAME: 'file-root' } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/not yet in MLflow|held back/);
    const runDir = onlyRunDir(runs);
    const { parent, children } = await expectTracked(localClient, 'file-root');
    expect(parent.info.artifact_uri!.startsWith(pathToFileURL(root).href)).toBe(true);
    // The same relative paths a proxied upload gives (test/track/mlflow-server.test.ts).
    const parentFiles = await listed(localClient, parent.info.run_id);
    expect(parentFiles).toContain('ensemble/confusion-matrix.png');
    expect(parentFiles).toContain('config/config.resolved.yaml');
    const png = readFileSync(path.join(fileURLToPath(parent.info.artifact_uri!), 'ensemble', 'confusion-matrix.png'));
    expect(png.equals(readFileSync(path.join(runDir, 'ensemble', 'confusion-matrix.png')))).toBe(true);
    const child = children.find((c) => tagsOf(c)['fer.key'] === 'tiny-2/fold-1')!;
    const childFiles = await listed(localClient, child.info.run_id);
    // The weights go once, in the task's logged model, not among the run's own artifacts too.
    expect(childFiles.filter((f) => f.startsWith('model/'))).toEqual([]);
    expect(childFiles).toContain('metrics.csv');
    // Logged models, each under its own file: root, marked ready.
    const models = await localClient.searchLoggedModels([parent.info.experiment_id], '');
    const own = models.find((m) => m.info.source_run_id === child.info.run_id)!;
    const weights = readFileSync(path.join(fileURLToPath(own.info.artifact_uri), 'model', 'weights.bin'));
    expect(weights.equals(readFileSync(path.join(runDir, 'tasks', 'tiny-2', 'fold-1', 'model', 'weights.bin')))).toBe(true);
    expect(models.map((m) => m.info.name).sort()).toEqual(['ensemble', 'model', 'model', 'model', 'model']);
    for (const m of models) {
      expect(m.info.status).toBe('LOGGED_MODEL_READY');
      expect(existsSync(path.join(fileURLToPath(m.info.artifact_uri), 'MLmodel')), m.info.artifact_uri).toBe(true);
    }
    // Nothing left in the journal for this server.
    const state = readDeliveryState(deliveryStateFile(journalFiles(runDir)[0]!, local.uri), local.uri);
    expect(state.held ?? []).toEqual([]);
  }, 300_000);

  it('s3: artifact root: everything but the artifacts is delivered, the runs end, the artifacts wait, and fer says why and exits 1', async () => {
    const runs = tempDir('fer-s3-root-runs-');
    const result = await runFer(demo(runs), { env: { MLFLOW_TRACKING_URI: remote.uri, MLFLOW_EXPERIMENT_NAME: 's3-root' } });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).not.toMatch(STACK_TRACE);
    const { parent, children } = await expectTracked(remoteClient, 's3-root');
    expect(parent.info.artifact_uri).toMatch(/^s3:\/\/fer-test-bucket\/x\//);
    // The real cause, not "start the server with proxying".
    expect(result.stderr).toContain(`MLflow server ${remote.uri} does not proxy artifacts: its artifact root s3://fer-test-bucket/x/${parent.info.experiment_id} is not a local path fer can write`);
    expect(result.stderr).toContain('mlflow server --serve-artifacts');
    expect(result.stderr).toContain('file: artifact root');
    expect(result.stderr.match(/artifacts held back/g), result.stderr).toHaveLength(1);
    const runDir = onlyRunDir(runs);
    expect(result.stderr).toContain(`fer sync ${path.relative(process.cwd(), runDir)}`);
    expect(children.every((c) => tagsOf(c)['mlflow.parentRunId'] === parent.info.run_id)).toBe(true);
    // Exactly the artifact and model entries are held; the cursor is past everything.
    const journal = journalFiles(runDir)[0]!;
    const entries = readJournal(journal);
    const state = readDeliveryState(deliveryStateFile(journal, remote.uri), remote.uri);
    expect(state.cursor).toBe(entries[entries.length - 1]!.seq);
    expect(state.held).toEqual(entries.filter((e) => e.type === 'artifact' || e.type === 'model').map((e) => e.seq));
    expect(await remoteClient.searchLoggedModels([parent.info.experiment_id], '')).toEqual([]);

    // fer sync to the same server: still held, same reason, exit 1, nothing sent twice.
    const again = await runFer(['sync', runDir, '--to', remote.uri], { env: { MLFLOW_TRACKING_URI: '' } });
    expect(again.code, again.stderr).toBe(1);
    expect(again.stderr).toContain(`${state.held!.length} artifact entries held back: MLflow server ${remote.uri} does not proxy artifacts`);
    expect((await remoteClient.metricHistory(children[0]!.info.run_id, 'val_accuracy')).length).toBe(2);

    // fer sync to a server that can take them delivers everything, artifacts included.
    const moved = await runFer(['sync', runDir, '--to', local.uri, '--experiment', 's3-moved', '--json'], { env: { MLFLOW_TRACKING_URI: '' } });
    expect(moved.code, moved.stderr).toBe(0);
    const report = JSON.parse(moved.stdout) as { runs: { journals: { pending: number }[] }[] };
    expect(report.runs[0]!.journals[0]!.pending).toBe(0);
    const { parent: movedParent } = await expectTracked(localClient, 's3-moved');
    expect(await listed(localClient, movedParent.info.run_id)).toContain('ensemble/confusion-matrix.png');
  }, 300_000);
});

describe.skipIf(!mlflowAvailable)('a proxying MLflow server restarted without artifact serving', () => {
  let server: MlflowServer;
  let client: MlflowClient;

  beforeAll(async () => {
    server = await startMlflow();
    client = server.client();
  }, 240_000);
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  it('holds the artifact (the 503 it answers is no outage), delivers the rest, and sends the artifact once serving is back', async () => {
    const runDir = tempDir('fer-unserved-');
    mkdirSync(path.join(runDir, 'ensemble'));
    writeFileSync(path.join(runDir, 'ensemble', 'report.txt'), 'accuracy 0.5\n');
    const file = journalFile(runDir, 'main');
    const writer = new JournalWriter(file);
    writer.append({ type: 'open', run: 'parent', name: 'unserved', experiment: 'unserved', startTime: Date.now(), uid: 'u-unserved', tags: {} });
    const deliver = () => new JournalDelivery({ runDir, journalFile: file, client }).deliver();
    await deliver();
    const runId = readDeliveryState(deliveryStateFile(file, server.uri), server.uri).runs.parent!;
    expect((await client.getRun(runId)).info.artifact_uri).toMatch(/^mlflow-artifacts:/);

    await server.stop();
    await server.start({ serveArtifacts: false });
    writer.append({ type: 'artifact', run: 'parent', file: 'ensemble/report.txt', path: 'ensemble/report.txt', digest: 'd' });
    writer.append({ type: 'metrics', run: 'parent', points: [{ key: 'test_accuracy', value: 0.5, step: 0, timestamp: Date.now() }] });
    writer.append({ type: 'close', run: 'parent', status: 'FINISHED', endTime: Date.now() });
    writer.close();
    const delivery = new JournalDelivery({ runDir, journalFile: file, client });
    const report = await delivery.deliver();
    expect(report).toEqual({ delivered: 2, pending: 1, rejected: [] });
    const run = await client.getRun(runId);
    expect(run.info.status).toBe('FINISHED');
    expect(run.data.metrics?.map((m) => m.key)).toEqual(['test_accuracy']);
    expect(delivery.held()?.entries).toBe(1);
    expect(delivery.held()?.error.message).toBe(`MLflow server ${server.uri} does not serve artifacts now (artifact serving is disabled), yet the artifact root mlflow-artifacts:/${run.info.experiment_id} is one it proxied`);
    expect(delivery.pending()).toBe(1);

    await server.stop();
    await server.start();
    const later = new JournalDelivery({ runDir, journalFile: file, client });
    expect(await later.deliver()).toEqual({ delivered: 1, pending: 0, rejected: [] });
    expect(later.held()).toBeUndefined();
    expect((await client.downloadArtifact(run.info.artifact_uri!, 'ensemble/report.txt')).toString()).toBe('accuracy 0.5\n');
    expect(await client.metricHistory(runId, 'test_accuracy')).toHaveLength(1);
  }, 300_000);
});
