import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LoadedConfig } from '../../src/config/load.js';
import { loadConfigWithPlugins } from '../../src/config/read.js';
import type { FerConfig } from '../../src/config/types.js';
import { loadDataset } from '../../src/data/load.js';
import { loadedPlugins } from '../../src/plugins/loader.js';
import type { FromWorker, WorkerInit } from '../../src/run/protocol.js';
import { workerInit } from '../../src/run/worker-setup.js';
import { configDigest, taskFingerprint } from '../../src/store/run-folder.js';
import { expandTasks, type Task } from '../../src/store/tasks.js';
import { repoRoot, STACK_TRACE } from '../helpers/cli.js';
import { tempDir } from '../helpers/data.js';

/**
 * The worker process (dist/run/worker.js, as the runner forks it) given what a runner sends it:
 * it trains only when the config, the plugin files and the data are the ones the runner read, and
 * otherwise fails the task with a one-line reason, writing nothing but the task's failed status.
 */
const workerScript = path.join(repoRoot, 'dist', 'run', 'worker.js');

/** 7 classes x (6 training + 2 test) rows of 48x48 images whose brightness follows the class. */
function csvText(): string {
  const lines = ['emotion,pixels,Usage'];
  for (const usage of ['Training', 'PublicTest']) {
    for (let row = 0; row < (usage === 'Training' ? 6 : 2); row++) {
      for (let label = 0; label < 7; label++) lines.push(`${label},${Array.from({ length: 48 * 48 }, (_, i) => (label * 36 + ((i * (row + 3)) % 29)) % 256).join(' ')},${usage}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const config = [
  'name: ws',
  'seed: 3',
  'plugins: [./layer.ts]',
  'data:',
  '  source: {csv: ./data.csv}',
  '  cache: ./cache',
  '  split: {train: Training, test: PublicTest}',
  '  preprocess: [{scale: {factor: 0.00392156862745098}}]',
  'models:',
  '  tiny:',
  '    layers:',
  '      - conv2d: {filters: 2, kernel_size: 3, padding: same, activation: relu}',
  '      - wc/scale: {initial: 0.5}',
  '      - flatten',
  '      - dense: {units: $classes, activation: softmax}',
  '  broken:',
  '    layers:',
  '      - conv2d: {filters: 2, kernel_size: 3}',
  '      - dense: {units: 4}',
  '      - flatten',
  '      - dense: {units: $classes, activation: softmax}',
  'training: {epochs: 1, batch_size: 16}',
  'folds: {k: 2}',
  'ensemble: {members: [{model: tiny, count: 1}, {model: broken, count: 1}]}',
  '',
].join('\n');

let dir: string;
let loaded: LoadedConfig;
let digests: { config: string; data: string };
let tasks: Task[];
let runs = 0;

beforeAll(async () => {
  dir = tempDir('fer-worker-setup-');
  writeFileSync(path.join(dir, 'exp.yaml'), config);
  writeFileSync(path.join(dir, 'data.csv'), csvText());
  copyFileSync(path.join(repoRoot, 'test', 'fixtures', 'worker-inputs', 'layer.ts'), path.join(dir, 'layer.ts'));
  // What the runner does before it forks its workers.
  loaded = await loadConfigWithPlugins(path.join(dir, 'exp.yaml'), { cwd: dir });
  const { dataset } = await loadDataset({ data: loaded.config.data!, seed: loaded.config.seed });
  digests = { config: configDigest(loaded.config, loadedPlugins(loaded.registry).map((p) => p.digest)), data: dataset.digest };
  tasks = expandTasks(loaded.config);
}, 120_000);

/** A fresh run folder and the init message the runner would send for it. */
function initFor(): WorkerInit {
  const runDir = path.join(dir, 'runs', `run-${++runs}`);
  return workerInit(loaded, digests, { runDir, cwd: dir, backend: 'auto', deterministic: true });
}

/** Forks a worker, sends it `init` and one task, and returns what it said (and its stderr). */
function runWorker(init: WorkerInit, task: Task, fingerprint = taskFingerprint(task.key, digests.config, digests.data)): Promise<{ messages: FromWorker[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = fork(workerScript, [], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...process.env, TF_NUM_INTRAOP_THREADS: '1', TF_CPP_MIN_LOG_LEVEL: '2' } });
    const messages: FromWorker[] = [];
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('message', (raw) => {
      const message = raw as FromWorker;
      messages.push(message);
      if (message.type === 'ready') child.send({ type: 'task', task, fingerprint });
      if (message.type === 'task-end' || message.type === 'task-error') child.send({ type: 'stop' });
    });
    child.on('error', reject);
    child.on('exit', () => resolve({ messages, stderr }));
    child.send(init);
  });
}

const taskDirOf = (init: WorkerInit, task: Task) => path.join(init.runDir, 'tasks', ...task.key.split('/'));
const statusOf = (init: WorkerInit, task: Task) => JSON.parse(readFileSync(path.join(taskDirOf(init, task), 'status.json'), 'utf8')) as Record<string, unknown>;
const short = (digest: string) => digest.slice(0, 12);

/** The worker failed the task with `reason`, trained nothing and wrote only its failed status (and its checksum). */
async function expectRefused(init: WorkerInit, reason: string): Promise<void> {
  const task = tasks[0]!;
  const { messages, stderr } = await runWorker(init, task);
  expect(messages.map((m) => m.type)).toEqual(['ready', 'task-start', 'task-error']);
  expect(messages[2]).toEqual({ type: 'task-error', key: task.key, message: reason });
  expect(reason).not.toContain('\n');
  expect(stderr).not.toMatch(STACK_TRACE);
  expect(statusOf(init, task)).toMatchObject({ key: task.key, state: 'failed', fingerprint: taskFingerprint(task.key, digests.config, digests.data), epochs: 0, error: reason });
  expect(readdirSync(taskDirOf(init, task))).toEqual(['status.json', 'status.json.sha256']);
}

describe('a run worker', () => {
  it('trains a task from the config, plugins and data the runner read (the control case)', async () => {
    const init = initFor();
    const { messages } = await runWorker(init, tasks[0]!);
    const types = messages.map((m) => m.type);
    expect(types.slice(0, 2)).toEqual(['ready', 'task-start']);
    expect(types.filter((t) => t === 'epoch')).toHaveLength(1);
    expect(messages.at(-1)).toMatchObject({ type: 'task-end', key: tasks[0]!.key, outcome: { state: 'finished' } });
    expect(statusOf(init, tasks[0]!)).toMatchObject({ state: 'finished', epochs: 1 });
    expect(existsSync(path.join(taskDirOf(init, tasks[0]!), 'model', 'model.json'))).toBe(true);
  }, 120_000);

  it('refuses a config that is not the one its digest names', async () => {
    const init = initFor();
    const changed: FerConfig = { ...init.config.config, training: { ...init.config.config.training, epochs: 3 } };
    init.config = { ...init.config, config: changed };
    const received = configDigest(changed, init.plugins.map((p) => p.digest));
    await expectRefused(
      init,
      `${path.join(dir, 'exp.yaml')}: the config this worker received has digest ${short(received)}, the run's is ${short(digests.config)}: not trained. Rerun the command: it will start a new run folder for the edited config`,
    );
  }, 120_000);

  it('refuses a plugin file edited, or removed, since the runner loaded it', async () => {
    const file = path.join(dir, 'layer.ts');
    const original = readFileSync(file, 'utf8');
    const expected = loadedPlugins(loaded.registry)[0]!.digest;
    try {
      appendFileSync(file, '// edited\n');
      const found = createHash('sha256').update(readFileSync(file)).digest('hex');
      await expectRefused(
        initFor(),
        `plugin \`./layer.ts\` (${file}) was edited since the run loaded it (sha256 ${short(expected)} then, ${short(found)} now): not trained. Rerun the command: it will start a new run folder for the edited plugin (or restore the file and rerun to continue this one)`,
      );
      renameSync(file, `${file}.moved`);
      await expectRefused(
        initFor(),
        `plugin \`./layer.ts\` (${file}) is gone since the run loaded it (sha256 ${short(expected)} then, no file now): not trained. Rerun the command: it will start a new run folder for the edited plugin (or restore the file and rerun to continue this one)`,
      );
    } finally {
      writeFileSync(file, original);
    }
  }, 120_000);

  it('refuses data that changed since the runner read it', async () => {
    const file = path.join(dir, 'data.csv');
    const original = readFileSync(file, 'utf8');
    try {
      appendFileSync(file, original.split('\n')[1]!.replace(/^0,/, '1,') + '\n');
      const { dataset } = await loadDataset({ data: loaded.config.data!, seed: loaded.config.seed, cache: false });
      expect(dataset.digest).not.toBe(digests.data);
      await expectRefused(
        initFor(),
        `the data changed since the run read it (csv ${file}: digest ${short(digests.data)} then, ${short(dataset.digest)} now): not trained. Rerun the command: it will start a new run folder for the changed data (or restore the data and rerun to continue this one)`,
      );
    } finally {
      writeFileSync(file, original);
    }
  }, 120_000);

  it('reports a model the compiler rejects at its line in the YAML, with the code frame, and fails the task', async () => {
    const init = initFor();
    const task = tasks.find((t) => t.model === 'broken')!;
    const { messages } = await runWorker(init, task);
    const error = messages.find((m) => m.type === 'task-error');
    expect(error, JSON.stringify(messages)).toBeDefined();
    const text = (error as { message: string }).message;
    // models.broken.layers[1] (dense before flatten) is on line 19, column 9 of exp.yaml.
    expect(text).toMatch(/exp\.yaml:19:9: error: /);
    expect(text).toContain('19 |       - dense: {units: 4}');
    expect(statusOf(init, task)).toMatchObject({ state: 'failed' });
  }, 120_000);
});

describe('configDigest', () => {
  it('is the digest of the config as JSON, and changes with the code of its plugins', () => {
    const config = loaded.config;
    const copy = JSON.parse(JSON.stringify({ ...config, extra: undefined })) as FerConfig;
    expect(configDigest(copy)).toBe(configDigest({ ...config, extra: undefined } as FerConfig));
    expect(configDigest(config, [])).toBe(configDigest(config));
    expect(configDigest(config, ['a'.repeat(64)])).not.toBe(configDigest(config));
    expect(configDigest(config, ['a'.repeat(64)])).not.toBe(configDigest(config, ['b'.repeat(64)]));
  });
});
