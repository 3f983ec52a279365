import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareRun } from '../../src/run/runner.js';
import { acquireLock, liveOwner, STALE_SECONDS, type LockOwner } from '../../src/store/lock.js';
import { ferBin, killAtEpoch, repoRoot, runFer, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/data.js';

/** The demo config, slow enough for a second process to start while the first trains. */
const slowDemo = ['--set', 'data.source.synthetic.rows_per_class=250', '--set', 'training.epochs=4', '--set', 'training.batch_size=16'];
const TASKS = ['tiny-1/fold-0', 'tiny-1/fold-1', 'tiny-2/fold-0', 'tiny-2/fold-1'];

/** `fer run` in its own process group (a kill takes its workers too), with its output collected. */
function startFer(args: readonly string[]): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [ferBin, ...args], { cwd: repoRoot, detached: true, env: { ...process.env, NO_COLOR: '1', MLFLOW_TRACKING_URI: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

/** Resolves once `file` exists (a run folder's lock, a task's metrics). */
async function waitFor(test: () => boolean, what: string): Promise<void> {
  const started = Date.now();
  while (!test()) {
    if (Date.now() - started > 180_000) throw new Error(`never saw ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function runDirOf(runs: string): string | undefined {
  const dir = path.join(runs, 'demo');
  const run = existsSync(dir) ? readdirSync(dir).find((d) => d.startsWith('run-')) : undefined;
  return run && path.join(dir, run);
}

const epochsDone = (runDir: string, key: string) => {
  try {
    return (JSON.parse(readFileSync(path.join(runDir, 'tasks', ...key.split('/'), 'metrics.json'), 'utf8')) as unknown[]).length;
  } catch {
    return 0;
  }
};

/** Every metric point of every journal of a run, as `run key step`: each must occur once. */
function metricPoints(runDir: string): string[] {
  const dir = path.join(runDir, 'tracking');
  const points: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.startsWith('journal-'))) {
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      if (!line) continue;
      const entry = JSON.parse(line) as { type: string; run: string; points?: { key: string; step: number }[] };
      if (entry.type === 'metrics') for (const p of entry.points ?? []) points.push(`${entry.run} ${p.key} ${p.step}`);
    }
  }
  return points;
}

const startedTasks = (stderr: string) => [...stderr.matchAll(/\] (\S+): started/g)].map((m) => m[1]!);

describe('a run folder is locked', () => {
  it('a second fer run of the same config at once says who holds the run and exits 1; the first trains everything once', async () => {
    const runs = tempDir('fer-runs-');
    const first = startFer(['run', 'configs/demo.yaml', '--runs', runs, '--workers', '1', ...slowDemo]);
    await waitFor(() => {
      const dir = runDirOf(runs);
      return dir !== undefined && epochsDone(dir, 'tiny-1/fold-0') >= 1;
    }, 'the first run training');
    const runDir = runDirOf(runs)!;
    const manifest = readFileSync(path.join(runDir, 'run.json'), 'utf8');

    const second = await runFer(['run', 'configs/demo.yaml', '--runs', runs, '--workers', '1', ...slowDemo], { env: { MLFLOW_TRACKING_URI: '' } });
    expect(second.code, second.stderr).toBe(1);
    expect(second.stderr).toContain(`this run is being run by pid ${first.child.pid} on ${os.hostname()} (fer run configs/demo.yaml), since `);
    expect(second.stderr).not.toContain('started');
    expect(readFileSync(path.join(runDir, 'run.json'), 'utf8')).toBe(manifest);

    const result = await first.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('ENSEMBLE (mean)');
    expect(startedTasks(result.stderr).sort()).toEqual(TASKS);
    const points = metricPoints(runDir);
    expect(points.length).toBeGreaterThan(0);
    expect(new Set(points).size).toBe(points.length);
    expect(existsSync(path.join(runDir, 'run.lock'))).toBe(false);
  }, 600_000);

  it('a lock left by a run killed with SIGKILL is taken over by the next run, which resumes', async () => {
    const runs = tempDir('fer-runs-');
    const first = startFer(['run', 'configs/demo.yaml', '--runs', runs, '--workers', '1', ...slowDemo]);
    await killAtEpoch(first.child, runs, 'demo', 'tiny-1/fold-0', 2);
    const runDir = runDirOf(runs)!;
    expect(existsSync(path.join(runDir, 'run.lock'))).toBe(true);

    const next = await runFer(['run', 'configs/demo.yaml', '--runs', runs, '--workers', '1', ...slowDemo], { env: { MLFLOW_TRACKING_URI: '' } });
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toContain(`took over from pid ${first.child.pid} on ${os.hostname()}`);
    expect(next.stderr).toMatch(/resumed after epoch [2-4]/);
    expect(next.stdout).toContain('ENSEMBLE (mean)');
    for (const key of TASKS) expect(epochsDone(runDir, key), key).toBe(4);
    expect(existsSync(path.join(runDir, 'run.lock'))).toBe(false);
  }, 600_000);

  it('shards started at once on one folder, the same shard twice among them, train every task once', async () => {
    const runs = tempDir('fer-runs-');
    const shards = ['1/2', '1/2', '2/2'].map((shard) => startFer(['run', 'configs/demo.yaml', '--runs', runs, '--workers', '1', '--shard', shard, ...slowDemo]));
    const results = await Promise.all(shards.map((s) => s.done));
    // The same shard twice: one trains it, the other says who does (or, had it come after the
    // first had finished, finds nothing left to train).
    for (const r of results) {
      if (r.code === 1) expect(r.stderr).toContain('shard 1/2 of this run is being run by pid ');
      else expect(r.code, r.stderr).toBe(0);
    }
    const trained = results.flatMap((r) => startedTasks(r.stderr));
    expect(trained.sort()).toEqual(TASKS);

    const collected = await runFer(['run', 'configs/demo.yaml', '--runs', runs, '--collect', ...slowDemo], { env: { MLFLOW_TRACKING_URI: '' } });
    expect(collected.code, collected.stderr).toBe(0);
    expect(collected.stdout).toContain('ENSEMBLE (mean)');
    const points = metricPoints(runDirOf(runs)!);
    expect(new Set(points).size).toBe(points.length);
  }, 600_000);
});

describe('task claims', () => {
  it('a plain run and a shard of other size on one folder at once train every task once, and --collect refuses while tasks are claimed', async () => {
    const runs = tempDir('fer-runs-');
    const shard = startFer(['run', 'configs/demo.yaml', '--runs', runs, '--workers', '1', '--shard', '1/1', ...slowDemo]);
    await waitFor(() => {
      const dir = runDirOf(runs);
      return dir !== undefined && epochsDone(dir, 'tiny-1/fold-0') >= 1;
    }, 'the shard training');
    const collect = await runFer(['run', 'configs/demo.yaml', '--runs', runs, '--collect', ...slowDemo], { env: { MLFLOW_TRACKING_URI: '' } });
    expect(collect.code, collect.stderr).toBe(1);
    expect(collect.stderr).toMatch(/tasks? (is|are) being trained: tiny-\d\/fold-\d by pid \d+ on /);
    const plain = await runFer(['run', 'configs/demo.yaml', '--runs', runs, '--workers', '1', ...slowDemo], { env: { MLFLOW_TRACKING_URI: '' } });
    const sharded = await shard.done;
    expect(sharded.code, sharded.stderr).toBe(0);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).toContain('being trained by pid');
    expect([...startedTasks(sharded.stderr), ...startedTasks(plain.stderr)].sort()).toEqual(TASKS);
  }, 600_000);
});

describe('a shard held from another machine', () => {
  it('is waited for until its heartbeat stops, then taken over with the claims of the process that held it', async () => {
    const runs = tempDir('fer-runs-');
    const quick = ['--set', 'training.epochs=1', '--set', `data.cache=${tempDir('fer-cache-')}`];
    const { runDir } = await prepareRun({ configFile: 'configs/demo.yaml', overrides: quick.filter((_, i) => i % 2 === 1), cwd: repoRoot, runsDir: runs });
    // What a shard's process on a machine that was lost leaves: its shard lock and a task's claim,
    // their heartbeat a moment old.
    const gone: LockOwner = { pid: 4242, host: 'lost-machine', since: new Date().toISOString(), command: 'fer run configs/demo.yaml --shard 1/2', nonce: 'n' };
    mkdirSync(path.join(runDir, 'tasks', 'tiny-1', 'fold-0'), { recursive: true });
    const shardLock = path.join(runDir, 'shard-1-of-2.lock');
    writeFileSync(shardLock, JSON.stringify(gone));
    const claim = path.join(runDir, 'tasks', 'tiny-1', 'fold-0', 'claim.lock');
    writeFileSync(claim, JSON.stringify({ ...gone, nonce: 'm' }));
    // Touched later than the shard lock: stale only because its process's shard lock was.
    const later = new Date(Date.now() + 60_000);
    utimesSync(claim, later, later);

    // The lost machine's heartbeat goes on until the run says it waits, then stops as if its last
    // beat was 4 s ago: stale 2 s later (FER_LOCK_STALE_SECONDS=6), within the run's wait of
    // 6 s + 2 heartbeats, however long the run took to start on a loaded machine.
    const started = Date.now();
    const child = spawn(process.execPath, [ferBin, 'run', 'configs/demo.yaml', '--runs', runs, '--workers', '1', '--shard', '1/2', ...quick], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, MLFLOW_TRACKING_URI: '', FER_LOCK_STALE_SECONDS: '6' },
    });
    let stderr = '';
    let beating = true;
    const beat = (): void => {
      if (!beating) return;
      if (stderr.includes('is held by')) {
        beating = false;
        const last = new Date(Date.now() - 4_000);
        utimesSync(shardLock, last, last);
        return;
      }
      utimesSync(shardLock, new Date(), new Date());
    };
    beat();
    const heart = setInterval(beat, 100);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      beat();
    });
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearInterval(heart);
    const retry = { code, stderr };
    expect(retry.code, retry.stderr).toBe(0);
    expect(Date.now() - started).toBeGreaterThan(2000);
    expect(retry.stderr).toContain('shard 1/2 of this run is held by pid 4242 on lost-machine (fer run configs/demo.yaml --shard 1/2), since ');
    expect(retry.stderr).toContain('took over from pid 4242 on lost-machine');
    expect(retry.stderr).toMatch(/tiny-1\/fold-0: took over from pid 4242 on lost-machine/);
    expect(startedTasks(retry.stderr).sort()).toEqual(['tiny-1/fold-0', 'tiny-2/fold-0']);
    expect(existsSync(path.join(runDir, 'shard-1-of-2.lock'))).toBe(false);
  }, 300_000);
});

describe('lock files', () => {
  const foreign = (overrides: Partial<LockOwner> = {}): LockOwner => ({ pid: 4242, host: 'another-machine', since: '2025-01-01T00:00:00.000Z', command: 'fer run x.yaml', nonce: 'n', ...overrides });

  it('takes a free lock, refuses a held one naming its owner, and frees it on release', () => {
    const file = path.join(tempDir('fer-lock-'), 'run.lock');
    const first = acquireLock(file, 'fer run a.yaml');
    if (!('held' in first)) throw new Error('not taken');
    const second = acquireLock(file, 'fer run b.yaml');
    expect('owner' in second && second.owner).toMatchObject({ pid: process.pid, host: os.hostname(), command: 'fer run a.yaml' });
    first.held.release();
    expect(existsSync(file)).toBe(false);
    const third = acquireLock(file, 'fer run b.yaml');
    expect('held' in third).toBe(true);
    if ('held' in third) third.held.release();
  });

  it('is stale on this machine when its pid is gone or is another process now, and from another machine after the heartbeat bound', () => {
    const dir = tempDir('fer-lock-');
    const file = path.join(dir, 'run.lock');
    // A pid that cannot be running (above the largest pid Linux hands out).
    writeFileSync(file, JSON.stringify(foreign({ host: os.hostname(), pid: 2 ** 22 + 1 })));
    expect(liveOwner(file)).toBeUndefined();
    const dead = acquireLock(file, 'fer run');
    expect('held' in dead && dead.tookOver?.reason).toBe(`pid ${2 ** 22 + 1} is no longer running`);
    if ('held' in dead) dead.held.release();

    // This very process, but recorded as started at another time: the pid was recycled.
    writeFileSync(file, JSON.stringify(foreign({ host: os.hostname(), pid: process.pid, processStart: '1' })));
    if (existsSync('/proc/self/stat')) expect(liveOwner(file)).toBeUndefined();

    // Another machine: alive while its heartbeat is recent, stale after STALE_SECONDS.
    writeFileSync(file, JSON.stringify(foreign()));
    expect(liveOwner(file)).toMatchObject({ host: 'another-machine' });
    expect('owner' in acquireLock(file, 'fer run')).toBe(true);
    const old = new Date(Date.now() - (STALE_SECONDS + 10) * 1000);
    utimesSync(file, old, old);
    expect(liveOwner(file)).toBeUndefined();
    const taken = acquireLock(file, 'fer run');
    expect('held' in taken && taken.tookOver?.reason).toMatch(/^no heartbeat from another-machine for \d+ s/);
    if ('held' in taken) taken.held.release();
  });
});
