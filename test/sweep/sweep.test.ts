import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MlflowClient } from '../../src/track/sinks/mlflow/client.js';
import { ferBin, repoRoot, runFer, STACK_TRACE } from '../helpers/cli.js';
import { mlflowAvailable, mlflowRequired, startMlflow, tagsOf, type MlflowServer } from '../helpers/mlflow.js';

/**
 * `fer sweep` end to end on the synthetic demo (configs/demo.yaml, made smaller: one member, fewer
 * rows, 3 epochs): a TPE sweep with ASHA pruning, the same sweep killed with SIGKILL and continued,
 * in two shards and collected, and a grid sweep whose first trial fails. Trials are compared through
 * sweep.json, MLflow through its REST API.
 */
const tempDir = (prefix: string) => mkdtempSync(path.join(os.tmpdir(), prefix));

const SWEEP = `extends: ${path.join(repoRoot, 'configs', 'demo.yaml')}
name: demo-sweep
data:
  source:
    synthetic: {rows_per_class: 40, splits: [train, test], noise: 0.5}
training:
  epochs: 3
ensemble:
  members:
    - {model: tiny, count: 1}
sweep:
  parameters:
    training.optimizer:
      choice:
        - {adam: {learning_rate: {loguniform: [1.0e-3, 1.0e-2]}}}
        - {sgd: {learning_rate: {loguniform: [1.0e-2, 1.0e-1]}, momentum: {uniform: [0.8, 0.95]}}}
    models.tiny.layers[2].with.units: {choice: [[16], [32]]}
  objective: {metric: accuracy, split: validation}
  search: {method: tpe, seed: 3, startup_trials: 2}
  pruning: {method: asha, min_epochs: 1, reduction_factor: 2, startup_trials: 1}
  budget: {trials: 4, workers: 2}
`;

interface SweepJson {
  sweep: string;
  trials: { id: string; params: Record<string, unknown>; state: string; objective: number | null; runDir: string }[];
  best: { id: string; objective: number; params: Record<string, unknown> } | null;
}

function writeSweep(dir: string, text = SWEEP): string {
  const file = path.join(dir, 'demo-sweep.yaml');
  writeFileSync(file, text);
  return file;
}

const outcome = (json: SweepJson) => json.trials.map((t) => ({ id: t.id, params: t.params, state: t.state, objective: t.objective }));

describe('an MLflow server is there to test against', () => {
  it.runIf(mlflowRequired)('the mlflow virtualenv exists (scripts/mlflow-venv.sh)', () => {
    expect(mlflowAvailable).toBe(true);
  });
});

describe('fer sweep', () => {
  let server: MlflowServer | undefined;
  let client: MlflowClient | undefined;
  let whole: SweepJson;
  let wholeRun: Awaited<ReturnType<typeof runFer>>;
  const dirA = tempDir('fer-sweep-a-');

  beforeAll(async () => {
    if (mlflowAvailable) {
      server = await startMlflow();
      client = server.client();
    }
    const file = writeSweep(dirA);
    wholeRun = await runFer(['sweep', file, '--json', '--workers', '1', '--runs', path.join(dirA, 'runs')], { cwd: dirA, env: server ? { MLFLOW_TRACKING_URI: server.uri } : {} });
    whole = JSON.parse(wholeRun.stdout || 'null') as SweepJson;
  }, 400_000);
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  it('runs a TPE sweep with pruning: every trial a fer run folder, the best the highest objective, a report', () => {
    expect(wholeRun.code, wholeRun.stderr).toBe(0);
    expect(whole.sweep).toBe('demo-sweep');
    expect(whole.trials.map((t) => t.id)).toEqual(['t0001', 't0002', 't0003', 't0004']);
    for (const t of whole.trials) {
      expect(['finished', 'pruned']).toContain(t.state);
      expect(t.objective).toBeGreaterThan(0);
      expect(existsSync(path.join(dirA, t.runDir, 'run.json'))).toBe(true);
      expect(existsSync(path.join(dirA, t.runDir, 'config.resolved.yaml'))).toBe(true);
      expect(Object.keys(t.params)).toContain('training.optimizer');
      // Conditional parameters: a trial has the learning rate of the optimizer it chose, and only that one.
      expect(Object.keys(t.params).filter((k) => k.endsWith('.learning_rate'))).toEqual([`training.optimizer.${t.params['training.optimizer'] as string}.learning_rate`]);
    }
    const best = Math.max(...whole.trials.map((t) => t.objective!));
    expect(whole.best?.objective).toBe(best);
    const report = readFileSync(path.join(dirA, 'runs', 'demo-sweep', 'report.txt'), 'utf8');
    expect(report).toContain('parameter importance');
    expect(report).toMatch(/1\. t000\d/);
    for (const picture of ['objective.png', 'parallel-coordinates.png']) expect(existsSync(path.join(dirA, 'runs', 'demo-sweep', picture))).toBe(true);
    // A trial's config resolves its sampled values: it is a config fer run takes.
    const config = readFileSync(path.join(dirA, whole.trials[0]!.runDir, 'config.resolved.yaml'), 'utf8');
    expect(config).not.toMatch(/^sweep:/m);
  });

  it('prints the best trial as a config that fer run --dry-run takes', async () => {
    const best = await runFer(['sweep', path.join(dirA, 'demo-sweep.yaml'), '--best', '--write', path.join(dirA, 'best.yaml'), '--runs', path.join(dirA, 'runs')], { cwd: dirA });
    expect(best.code, best.stderr).toBe(0);
    const dry = await runFer(['run', path.join(dirA, 'best.yaml'), '--dry-run'], { cwd: dirA });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('tiny-1/fold-0');
  }, 60_000);

  it.runIf(mlflowAvailable)('shows parent sweep -> trials -> tasks in MLflow, the best trial on the parent', async () => {
    const experiment = await client!.getExperimentByName('demo-sweep');
    const runs = await client!.searchRuns([experiment!.experiment_id], '');
    const byId = new Map(runs.map((r) => [r.info.run_id, r]));
    const sweepRun = runs.find((r) => r.info.run_name === 'sweep demo-sweep')!;
    expect(sweepRun).toBeDefined();
    expect(tagsOf(sweepRun)['mlflow.parentRunId']).toBeUndefined();
    expect(tagsOf(sweepRun)['fer.sweep.best_trial']).toBe(whole.best!.id);
    expect(sweepRun.info.status).toBe('FINISHED');
    const trials = runs.filter((r) => tagsOf(r)['mlflow.parentRunId'] === sweepRun.info.run_id);
    expect(trials.map((r) => r.info.run_name).sort()).toEqual(whole.trials.map((t) => `demo-sweep ${t.id}`));
    for (const trial of trials) {
      const id = tagsOf(trial)['fer.trial']!;
      const state = whole.trials.find((t) => t.id === id)!.state;
      expect(tagsOf(trial)['fer.trial_state']).toBe(state);
      const tasks = runs.filter((r) => tagsOf(r)['mlflow.parentRunId'] === trial.info.run_id);
      expect(tasks.map((r) => r.info.run_name).sort()).toEqual(['tiny-1/fold-0', 'tiny-1/fold-1'].map((key) => `${trial.info.run_name}/${key}`));
    }
    const objective = await client!.metricHistory(sweepRun.info.run_id, 'objective');
    expect(objective.map((p) => p.step).sort()).toEqual([1, 2, 3, 4]);
    expect(byId.size).toBe(1 + 4 + 8);
  });

  it('killed with SIGKILL during a trial and run again, gives the same trials and results', async () => {
    const dir = tempDir('fer-sweep-b-');
    const file = writeSweep(dir);
    const runs = path.join(dir, 'runs');
    const child = spawn(process.execPath, [ferBin, 'sweep', file, '--workers', '1', '--runs', runs], { cwd: dir, detached: true, stdio: 'ignore', env: { ...process.env, MLFLOW_TRACKING_URI: undefined } });
    // Killed once the third trial has trained an epoch of its first task.
    const metrics = path.join(runs, 'demo-sweep', 'trials', 't0003', 'tasks', 'tiny-1', 'fold-0', 'metrics.json');
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const timer = setInterval(() => {
        try {
          if (existsSync(metrics) && (JSON.parse(readFileSync(metrics, 'utf8')) as unknown[]).length >= 1) {
            clearInterval(timer);
            process.kill(-child.pid!, 'SIGKILL');
            resolve();
          }
        } catch {
          // being written
        }
        if (Date.now() - started > 300_000) {
          clearInterval(timer);
          reject(new Error('the sweep never reached trial 3'));
        }
      }, 50);
    });
    await new Promise((r) => child.on('exit', r));
    const again = await runFer(['sweep', file, '--json', '--workers', '1', '--runs', runs], { cwd: dir, env: { MLFLOW_TRACKING_URI: undefined } });
    expect(again.code, again.stderr).toBe(0);
    expect(outcome(JSON.parse(again.stdout) as SweepJson)).toEqual(outcome(whole));
  }, 400_000);

  it('in two shards plus --collect gives the same result as one process', async () => {
    const dir = tempDir('fer-sweep-c-');
    const file = writeSweep(dir);
    const runs = path.join(dir, 'runs');
    const env = { MLFLOW_TRACKING_URI: undefined };
    const shards = await Promise.all([1, 2].map((i) => runFer(['sweep', file, '--shard', `${i}/2`, '--workers', '1', '--runs', runs], { cwd: dir, env })));
    for (const s of shards) expect(s.code, s.stderr).toBe(0);
    const collected = await runFer(['sweep', file, '--collect', '--json', '--runs', runs], { cwd: dir, env });
    expect(collected.code, collected.stderr).toBe(0);
    expect(outcome(JSON.parse(collected.stdout) as SweepJson)).toEqual(outcome(whole));
  }, 400_000);

  it('records a failing trial with its error and goes on with the next', async () => {
    const dir = tempDir('fer-sweep-d-');
    const file = writeSweep(
      dir,
      SWEEP.replace(/ {2}parameters:[\s\S]*?objective:/, '  parameters:\n    training.batch_size: {grid: [0, 32]}\n  objective:')
        .replace('search: {method: tpe, seed: 3, startup_trials: 2}', 'search: grid')
        .replace('pruning: {method: asha, min_epochs: 1, reduction_factor: 2, startup_trials: 1}', 'pruning: none'),
    );
    const result = await runFer(['sweep', file, '--json', '--workers', '1', '--runs', path.join(dir, 'runs')], { cwd: dir, env: { MLFLOW_TRACKING_URI: undefined } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(STACK_TRACE);
    const json = JSON.parse(result.stdout) as SweepJson;
    expect(json.trials.map((t) => t.state)).toEqual(['failed', 'finished']);
    expect(json.best?.id).toBe('t0002');
    const record = JSON.parse(readFileSync(path.join(dir, 'runs', 'demo-sweep', 'trials', 't0001', 'trial.json'), 'utf8')) as { error: string };
    expect(record.error).toContain('training.batch_size');
    expect(readFileSync(path.join(dir, 'runs', 'demo-sweep', 'report.txt'), 'utf8')).toContain('1 failed');
  }, 300_000);

  it('--dry-run estimates a trial as fer run --dry-run estimates the base experiment, and writes nothing', async () => {
    const dir = tempDir('fer-sweep-d-');
    const file = writeSweep(dir);
    const dry = await runFer(['sweep', file, '--dry-run', '--json'], { cwd: dir });
    expect(dry.code, dry.stderr).toBe(0);
    const sweep = JSON.parse(dry.stdout) as { trials: number; trialSeconds: number; estimatedSeconds: number; measured: { backend: string; workers: number; imagesPerTrial: number; models: Record<string, { trainImagesPerSecond: number; source: string }> } };
    expect(sweep.trials).toBe(4);
    expect(Object.keys(sweep.measured.models)).toEqual(['tiny']);
    expect(['measured', 'cached']).toContain(sweep.measured.models.tiny!.source);
    expect(sweep.estimatedSeconds).toBeCloseTo(4 * sweep.trialSeconds, 6);
    // fer run ignores the sweep section: its dry run of the same file is the base experiment, and it now finds the rate cached.
    const run = await runFer(['run', file, '--dry-run', '--json', '--workers', String(sweep.measured.workers)], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const estimate = (JSON.parse(run.stdout) as { estimate: { images: number; seconds: number; models: Record<string, { trainImagesPerSecond: number; source: string }> } }).estimate;
    expect(estimate.models.tiny).toMatchObject({ source: 'cached', trainImagesPerSecond: sweep.measured.models.tiny!.trainImagesPerSecond });
    expect(estimate.images).toBe(sweep.measured.imagesPerTrial);
    expect(Math.abs(estimate.seconds - sweep.trialSeconds)).toBeLessThanOrEqual(1);
    expect(existsSync(path.join(dir, 'runs'))).toBe(false);
    const text = await runFer(['sweep', file, '--dry-run'], { cwd: dir });
    expect(text.stdout).toMatch(/a trial \(the base experiment, as fer run --dry-run estimates it\):\n {2}work: \d+ tasks? x 3 epochs x [\d,]+ rows/);
    expect(text.stdout).toMatch(/estimated time: .+ \(about .+ a trial\)/);
  }, 120_000);

  it('reports a misspelt parameter path at its line with the nearest real path, and refuses the test split', async () => {
    const dir = tempDir('fer-sweep-e-');
    const file = writeSweep(dir, SWEEP.replace('models.tiny.layers[2].with.units', 'models.tiny.layers[2].with.unit').replace('split: validation', 'split: test'));
    const result = await runFer(['sweep', file, '--dry-run'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/demo-sweep\.yaml:\d+:5: error: `models\.tiny\.layers\[2\]\.with\.unit` is not a path of the resolved config/);
    expect(result.stderr).toContain('did you mean `models.tiny.layers[2].with.units`?');
    expect(result.stderr).toContain('a sweep cannot optimise on the test split');
    expect(result.stderr).not.toMatch(STACK_TRACE);
  }, 60_000);
});
