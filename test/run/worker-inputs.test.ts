import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { ferBin, repoRoot, runFer, STACK_TRACE, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/data.js';

/**
 * A config or plugin edited while `fer run` starts: its workers must train what the run read (the
 * config it sends them), and refuse a plugin whose file changed. Workers take their inputs when
 * they start, so the test plugin gate.mjs holds the worker there until the test has made its edit.
 */
const fixtures = path.join(repoRoot, 'test', 'fixtures', 'worker-inputs');
const TASKS = ['tiny-1/fold-0', 'tiny-1/fold-1'];

const config = [
  `extends: ${path.join(repoRoot, 'configs', 'demo.yaml')}`,
  'name: wc',
  'plugins: [./gate.mjs, ./layer.ts]',
  'models:',
  '  tiny:',
  '    layers:',
  '      - conv2d: {filters: 4, kernel_size: 3, padding: same, activation: relu}',
  '      - wc/scale: {initial: 0.5}',
  '      - use: classifier_head',
  '        with: {units: [8]}',
  'training: {epochs: 2}',
  'folds: {k: 2}',
  'ensemble: {members: [{model: tiny, count: 1}]}',
  '',
].join('\n');

const env = { MLFLOW_TRACKING_URI: '' };
const args = (runs: string) => ['run', 'exp.yaml', '--runs', runs, '--workers', '1'];

function onlyRun(runs: string): string {
  const entries = readdirSync(path.join(runs, 'wc')).filter((d) => d.startsWith('run-'));
  expect(entries).toHaveLength(1);
  return path.join(runs, 'wc', entries[0]!);
}
const metricsOf = (runDir: string, key: string) =>
  (JSON.parse(readFileSync(path.join(runDir, 'tasks', ...key.split('/'), 'metrics.json'), 'utf8')) as Record<string, number>[]).map(
    ({ seconds: _s, images_per_second: _i, ...rest }) => rest,
  );

/** `fer run` held at its worker's start; `edit` runs there, then the worker goes on. */
async function runWithEditAtStart(dir: string, runs: string, edit: () => void): Promise<CliResult> {
  const gate = path.join(dir, `gate-${path.basename(runs)}`);
  const child = spawn(process.execPath, [ferBin, ...args(runs)], { cwd: dir, env: { ...process.env, NO_COLOR: '1', ...env, FER_TEST_GATE: gate } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const started = Date.now();
  while (!existsSync(`${gate}.waiting`)) {
    if (Date.now() - started > 120_000 || child.exitCode !== null) throw new Error(`the worker never reached the gate: ${stderr}`);
    await sleep(50);
  }
  edit();
  writeFileSync(gate, '');
  return { code: await exited, stdout, stderr };
}

let dir: string;
let reference: string;
beforeAll(async () => {
  dir = tempDir('fer-worker-inputs-');
  writeFileSync(path.join(dir, 'exp.yaml'), config);
  for (const file of ['gate.mjs', 'layer.ts']) copyFileSync(path.join(fixtures, file), path.join(dir, file));
  // The same config run without any edit: what every run below must match.
  const runs = path.join(dir, 'runs-reference');
  const result = await runFer(args(runs), { cwd: dir, env });
  expect(result.code, result.stderr).toBe(0);
  reference = onlyRun(runs);
}, 300_000);

describe('a config or plugin edited while a run starts', () => {
  it('an edited YAML changes nothing: the workers train the config the run read', async () => {
    const runs = path.join(dir, 'runs-yaml');
    const original = readFileSync(path.join(dir, 'exp.yaml'), 'utf8');
    const result = await runWithEditAtStart(dir, runs, () =>
      writeFileSync(path.join(dir, 'exp.yaml'), original.replace('training: {epochs: 2}', 'training: {epochs: 2, optimizer: {adam: {learning_rate: 0.05}}}')),
    );
    writeFileSync(path.join(dir, 'exp.yaml'), original);
    expect(result.code, result.stderr).toBe(0);
    const run = onlyRun(runs);
    for (const task of TASKS) expect(metricsOf(run, task), task).toEqual(metricsOf(reference, task));
    expect(readFileSync(path.join(run, 'config.resolved.yaml'), 'utf8')).toBe(readFileSync(path.join(reference, 'config.resolved.yaml'), 'utf8'));
    expect(readFileSync(path.join(run, 'config.resolved.yaml'), 'utf8')).not.toContain('0.05');
  }, 300_000);

  it('an edited plugin is refused: its tasks fail with the reason, nothing is trained, and a rerun after restoring it resumes', async () => {
    const runs = path.join(dir, 'runs-plugin');
    const file = path.join(dir, 'layer.ts');
    const original = readFileSync(file, 'utf8');
    const edited = original.replace('this.initial = config.initial ?? 1;', 'this.initial = (config.initial ?? 1) * 2;');
    expect(edited).not.toBe(original);
    const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);
    const result = await runWithEditAtStart(dir, runs, () => writeFileSync(file, edited));

    const reason = `plugin \`./layer.ts\` (${file}) was edited since the run loaded it (sha256 ${sha(original)} then, ${sha(edited)} now): not trained. Rerun the command: it will start a new run folder for the edited plugin (or restore the file and rerun to continue this one)`;
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(STACK_TRACE);
    const run = onlyRun(runs);
    for (const task of TASKS) {
      expect(result.stderr).toContain(`${task}: FAILED: ${reason}`);
      const taskDir = path.join(run, 'tasks', ...task.split('/'));
      expect(JSON.parse(readFileSync(path.join(taskDir, 'status.json'), 'utf8'))).toMatchObject({ state: 'failed', error: reason, epochs: 0 });
      // Nothing trained: no checkpoint, model, metrics or predictions (the status and its checksum only).
      expect(readdirSync(taskDir).sort()).toEqual(['status.json', 'status.json.sha256']);
    }
    expect(JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8'))).toMatchObject({ state: 'failed' });

    writeFileSync(file, original);
    const again = await runFer(args(runs), { cwd: dir, env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('2 tasks, 0 already done, 2 to train');
    expect(onlyRun(runs)).toBe(run);
    for (const task of TASKS) expect(metricsOf(run, task), task).toEqual(metricsOf(reference, task));
    expect(JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8'))).toMatchObject({ state: 'finished' });
  }, 300_000);
});
