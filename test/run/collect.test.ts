import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ferBin, repoRoot, runFer, STACK_TRACE } from '../helpers/cli.js';
import { tempDir } from '../helpers/data.js';
import { writeTaskStatus, type TaskStatus } from '../../src/store/run-folder.js';

/**
 * `fer run --collect` reads the YAML itself, as each shard does: a config edited between the shards
 * and the collect (or a task trained under another fingerprint) must be said plainly, never end
 * quietly with no ensemble or build one from mixed tasks.
 */
const config = [
  `extends: ${path.join(repoRoot, 'configs', 'demo.yaml')}`,
  'name: collect',
  'training: {epochs: 1}',
  'ensemble: {members: [{model: tiny, count: 1}]}',
  '',
].join('\n');
const env = { MLFLOW_TRACKING_URI: '' };

describe('fer run --collect', () => {
  it('names an edited config, unfinished tasks and tasks of another fingerprint, and writes nothing until all are right', async () => {
    const dir = tempDir('fer-collect-');
    const yaml = path.join(dir, 'exp.yaml');
    writeFileSync(yaml, config);
    const run = (...extra: string[]) => runFer(['run', 'exp.yaml', '--runs', 'runs', ...extra], { cwd: dir, env });
    const folders = () => readdirSync(path.join(dir, 'runs', 'collect'));

    const first = await run('--shard', '1/2');
    expect(first.code, first.stderr).toBe(0);
    const [folder] = folders();
    const runDir = path.join(dir, 'runs', 'collect', folder!);

    // The YAML edited after the shards ran: another digest, so another (empty) run folder.
    writeFileSync(yaml, config.replace('epochs: 1', 'epochs: 1, optimizer: {adam: {learning_rate: 0.01}}'));
    const edited = await run('--collect');
    expect(edited.code).toBe(1);
    expect(edited.stderr).not.toMatch(STACK_TRACE);
    expect(edited.stderr).toMatch(
      new RegExp(`error: nothing to collect: no run of this config and data at runs/collect/run-[0-9a-f]{12}; runs of experiment collect: runs/collect/${folder} \\(running; config digest [0-9a-f]{12}, this one [0-9a-f]{12}; data digest same\\)`),
    );
    expect(edited.stderr).toContain('help: each shard must run the same config, overrides, plugins and data');
    expect(folders()).toEqual([folder]);

    // The config the shards ran, but one shard still to go.
    writeFileSync(yaml, config);
    const half = await run('--collect');
    expect(half.code).toBe(1);
    expect(half.stderr).toContain(`error: cannot build the ensemble of runs/collect/${folder}: 1 of 2 tasks not finished: tiny-1/fold-1 (not started)`);

    const second = await run('--shard', '2/2');
    expect(second.code, second.stderr).toBe(0);
    // Shards leave the ensemble to --collect (one writer logs it); none may be there before it.
    rmSync(path.join(runDir, 'ensemble'), { recursive: true, force: true });
    // A task whose status says it was trained under another config or data.
    const statusFile = path.join(runDir, 'tasks', 'tiny-1', 'fold-0', 'status.json');
    const status = JSON.parse(readFileSync(statusFile, 'utf8')) as TaskStatus;
    // Written as fer writes it (with its checksum): a hand edit alone would read as a damaged file.
    writeTaskStatus(runDir, { ...status, fingerprint: '0123456789abcdef' });
    const mixed = await run('--collect');
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toContain(
      `error: cannot build the ensemble of runs/collect/${folder}: 1 trained under another config or data: tiny-1/fold-0 (fingerprint 0123456789abcdef, this config's ${status.fingerprint})`,
    );
    expect(existsSync(path.join(runDir, 'ensemble'))).toBe(false);

    writeTaskStatus(runDir, status);
    const collected = await run('--collect');
    expect(collected.code, collected.stderr).toBe(0);
    expect(collected.stdout).toContain('ENSEMBLE (mean)');
    expect(JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8'))).toMatchObject({ state: 'finished' });
  }, 300_000);

  it('a finished shard suggests the collect of its own run: the same --runs and --set, quoted for a shell', async () => {
    const dir = tempDir('fer-collect-');
    writeFileSync(path.join(dir, 'exp.yaml'), config);
    const options = ['--runs', 'shared runs', '--set', 'training.optimizer={adam: {learning_rate: 0.01}}', '--set', 'seed=3'];
    const first = await runFer(['run', 'exp.yaml', '--shard', '1/2', ...options], { cwd: dir, env });
    expect(first.code, first.stderr).toBe(0);
    const suggested = /build the ensemble with: (fer run .*)$/m.exec(first.stderr)?.[1];
    expect(suggested).toBe(`fer run exp.yaml --collect --runs 'shared runs' --set 'training.optimizer={adam: {learning_rate: 0.01}}' --set seed=3`);
    const second = await runFer(['run', 'exp.yaml', '--shard', '2/2', ...options], { cwd: dir, env });
    expect(second.code, second.stderr).toBe(0);
    // Pasted into a shell as printed, it builds the ensemble of the run both shards wrote.
    const pasted = spawnSync('bash', ['-c', `fer() { "${process.execPath}" "${ferBin}" "$@"; }; ${suggested!}`], { cwd: dir, env: { ...process.env, ...env, NO_COLOR: '1' }, encoding: 'utf8' });
    expect(pasted.status, pasted.stderr).toBe(0);
    expect(pasted.stdout).toContain('ENSEMBLE (mean)');
    const [folder] = readdirSync(path.join(dir, 'shared runs', 'collect'));
    expect(JSON.parse(readFileSync(path.join(dir, 'shared runs', 'collect', folder!, 'run.json'), 'utf8'))).toMatchObject({ state: 'finished' });
  }, 300_000);
});
