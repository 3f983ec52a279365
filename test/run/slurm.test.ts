import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runFer } from '../helpers/cli.js';
import { tempDir } from '../helpers/data.js';
import { slurmForTests, type SlurmCluster } from '../helpers/slurm.js';

/**
 * examples/slurm-array.sh as its header says to submit it, on a real single-node Slurm cluster
 * started here (test/helpers/slurm.ts): the demo's tasks in a job array of 2 shards sharing a runs
 * folder, then a job depending on the array that collects. The ensemble must be the one a plain
 * `fer run` of the same config builds.
 */
const config = 'configs/demo.yaml';
// Every task with one TensorFlow thread, as the unsharded run's workers have on any machine: the
// numbers depend on the thread count (the script's header says so).
const options = ['--set', 'engine.threads=1'];
const env = { MLFLOW_TRACKING_URI: '' };

const onlyRun = (runs: string) => {
  const [run, ...more] = readdirSync(path.join(runs, 'demo'));
  expect(more, `run folders in ${runs}/demo`).toEqual([]);
  return path.join(runs, 'demo', run!);
};
const bytes = (file: string) => readFileSync(file).toString('base64');

let cluster: SlurmCluster | undefined;
beforeAll(async () => {
  cluster = await slurmForTests();
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
}, 60_000);

describe('examples/slurm-array.sh on a real Slurm cluster', () => {
  it('trains the demo in 2 array shards into one runs folder; a dependent job collects the ensemble of an unsharded run', async (ctx) => {
    if (!cluster) return ctx.skip();
    const dir = tempDir('fer-slurm-test-');
    const sharded = path.join(dir, 'runs-slurm');
    const plain = path.join(dir, 'runs-plain');
    // What this machine can always give: a core each, little memory, minutes.
    const resources = ['--cpus-per-task=1', '--mem=1G', '--time=10'];
    const submit = async (args: readonly string[]) => {
      const result = await cluster!.command('sbatch', ['--parsable', ...resources, ...args], { cwd: repoRoot, env: { ...env, FER_RUNS: sharded } });
      expect(result.code, result.stderr).toBe(0);
      return result.stdout.trim().split(';')[0]!;
    };

    const array = await submit(['--array=1-2', `--output=${dir}/shard-%a.log`, 'examples/slurm-array.sh', config, ...options]);
    const collect = await submit([`--dependency=afterok:${array}`, '--kill-on-invalid-dep=yes', `--output=${dir}/collect.log`, 'examples/slurm-array.sh', config, '--collect', ...options]);
    // The same config unsharded, meanwhile, into a runs folder of its own.
    const unsharded = await runFer(['run', config, '--runs', plain, ...options], { env });
    expect(unsharded.code, unsharded.stderr).toBe(0);

    const jobs = await cluster.waitForJobs([array, collect], 120_000);
    const log = (name: string) => (existsSync(path.join(dir, name)) ? readFileSync(path.join(dir, name), 'utf8') : `(no ${name})`);
    const logs = ['shard-1.log', 'shard-2.log', 'collect.log'].map((name) => `--- ${name}\n${log(name)}`).join('\n');
    expect(
      jobs.map((j) => `${j.arrayTaskId ?? 'collect'} ${j.state} ${j.exitCode}`).sort(),
      logs,
    ).toEqual(['1 COMPLETED 0:0', '2 COMPLETED 0:0', 'collect COMPLETED 0:0']);

    // Each shard trained its own tasks, and only those, and said how to collect this very run.
    for (const shard of [1, 2]) {
      const text = log(`shard-${shard}.log`);
      const planned = await runFer(['run', config, '--dry-run', '--json', '--shard', `${shard}/2`, ...options], { env });
      const mine = (JSON.parse(planned.stdout) as { tasks: { key: string }[] }).tasks.map((t) => t.key);
      expect(mine).toHaveLength(2);
      expect(text).toContain(`shard ${shard}/2 has 2, 0 already done, 2 to train`);
      for (const key of ['tiny-1/fold-0', 'tiny-1/fold-1', 'tiny-2/fold-0', 'tiny-2/fold-1']) {
        expect(text.includes(`${key}: finished`), `${key} in shard ${shard}'s log`).toBe(mine.includes(key));
      }
      expect(text).toContain(`shard ${shard}/2 done; when all shards are, build the ensemble with: fer run ${config} --collect --runs ${sharded} --set engine.threads=1\n`);
    }
    expect(log('collect.log')).toContain('ENSEMBLE (mean)');

    // The same run (the folder is named by its content), every member's outputs bit for bit, the
    // same ensemble and report.
    const a = onlyRun(plain);
    const b = onlyRun(sharded);
    expect(path.basename(b)).toBe(path.basename(a));
    expect(readdirSync(path.join(b, 'tracking')).filter((f) => f.startsWith('journal-')).sort()).toEqual(['journal-main.jsonl', 'journal-shard-1-of-2.jsonl', 'journal-shard-2-of-2.jsonl']);
    expect(JSON.parse(readFileSync(path.join(b, 'run.json'), 'utf8'))).toMatchObject({ state: 'finished', tasks: 4 });
    for (const task of ['tiny-1/fold-0', 'tiny-1/fold-1', 'tiny-2/fold-0', 'tiny-2/fold-1']) {
      for (const file of ['predictions.validation.csv', 'predictions.test.csv', 'model/weights.bin']) {
        expect(bytes(path.join(b, 'tasks', task, file)), `${task}/${file}`).toBe(bytes(path.join(a, 'tasks', task, file)));
      }
    }
    expect(readFileSync(path.join(b, 'ensemble', 'predictions.test.csv'), 'utf8')).toBe(readFileSync(path.join(a, 'ensemble', 'predictions.test.csv'), 'utf8'));
    expect(JSON.parse(readFileSync(path.join(b, 'ensemble', 'summary.json'), 'utf8'))).toEqual(JSON.parse(readFileSync(path.join(a, 'ensemble', 'summary.json'), 'utf8')));
    expect(readFileSync(path.join(b, 'ensemble', 'report.txt'), 'utf8')).toBe(readFileSync(path.join(a, 'ensemble', 'report.txt'), 'utf8'));
    rmSync(dir, { recursive: true, force: true });
  }, 240_000);
});
