import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runProcess } from './cli.js';
import { freePort, spawnGroup, stopGroup, type GroupProcess } from './process-group.js';

/**
 * A private single-node Slurm cluster for integration tests: Debian's `slurm-wlm` and `munge`
 * (.ci/run installs them), with munged, slurmctld and slurmd in the foreground on localhost, each
 * with its own socket, ports, state and spool in a temporary folder, so it meets neither a system
 * Slurm nor another test's cluster. The node is this machine as slurmd sees it (`slurmd -C`).
 */

/** CI sets this: there, a Slurm that cannot start is a failure, not a skip. */
export const slurmRequired = process.env.FER_REQUIRE_SLURM === '1';

/** Why a Slurm cluster cannot start here (programs missing, a daemon failing). */
export class SlurmUnavailable extends Error {}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One job, or one task of a job array, as `scontrol show job` gives it. */
export interface JobRecord {
  jobId: string;
  arrayTaskId?: string;
  state: string;
  reason: string;
  exitCode: string;
}

export interface SlurmCluster {
  dir: string;
  /** What Slurm's commands need in their environment to reach this cluster (SLURM_CONF). */
  env: Record<string, string>;
  /** A Slurm command (sbatch, squeue, ...) against this cluster. */
  command(name: string, args: readonly string[], options?: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<CommandResult>;
  /** Waits until every job (every task of an array) of `jobIds` has ended; throws with the queue after `timeoutMs`. */
  waitForJobs(jobIds: readonly string[], timeoutMs: number): Promise<JobRecord[]>;
  /** The daemons' output, for a failure message. */
  logs(): string;
  /** Cancels every job, stops the daemons and removes the folder. */
  stop(): Promise<void>;
}

const PROGRAMS = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'sinfo', 'scontrol', 'scancel', 'squeue'] as const;
/** States a job leaves no more (JOB_STATE_BASE in Slurm's slurm.h: everything past running, suspended and pending). */
const ACTIVE_STATES = new Set(['PENDING', 'RUNNING', 'SUSPENDED', 'CONFIGURING', 'COMPLETING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESIZING', 'SIGNALING', 'STAGE_OUT', 'RESV_DEL_HOLD']);

/** The programs' paths, from PATH and the sbin folders (not on a non-root PATH); the first missing one throws. */
function findPrograms(): Record<(typeof PROGRAMS)[number], string> {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  const found = {} as Record<(typeof PROGRAMS)[number], string>;
  for (const name of PROGRAMS) {
    const where = dirs.map((d) => path.join(d, name)).find((p) => existsSync(p));
    if (!where) throw new SlurmUnavailable(`${name} not found (Debian: apt-get install slurm-wlm munge)`);
    found[name] = where;
  }
  return found;
}

/** This machine as slurmd will find it: a node line that does not match is drained at once. */
function nodeHardware(slurmd: string): string {
  const probe = spawnSync(slurmd, ['-C'], { encoding: 'utf8', timeout: 30_000 });
  const fields = ['CPUs', 'Boards', 'SocketsPerBoard', 'CoresPerSocket', 'ThreadsPerCore', 'RealMemory'];
  const values = fields.map((f) => new RegExp(`\\b${f}=(\\d+)`).exec(probe.stdout ?? '')?.[1]);
  if (probe.status !== 0 || values.some((v) => v === undefined)) {
    throw new SlurmUnavailable(`slurmd -C did not describe this machine (exit ${probe.status}): ${(probe.stderr || probe.stdout || '').trim().slice(0, 500)}`);
  }
  return fields.map((f, i) => `${f}=${values[i]}`).join(' ');
}

function slurmConf(dir: string, ports: { controller: number; node: number }, hardware: string): string {
  const user = os.userInfo().username;
  return [
    'ClusterName=fertest',
    'SlurmctldHost=localhost',
    `SlurmctldPort=${ports.controller}`,
    `SlurmdPort=${ports.node}`,
    `SlurmUser=${user}`,
    `SlurmdUser=${user}`,
    'AuthType=auth/munge',
    'CredType=cred/munge',
    `AuthInfo=socket=${path.join(dir, 'munge', 'munge.socket')}`,
    `StateSaveLocation=${path.join(dir, 'state')}`,
    `SlurmdSpoolDir=${path.join(dir, 'spool')}`,
    `SlurmctldPidFile=${path.join(dir, 'slurmctld.pid')}`,
    `SlurmdPidFile=${path.join(dir, 'slurmd.pid')}`,
    `SlurmctldLogFile=${path.join(dir, 'slurmctld.log')}`,
    `SlurmdLogFile=${path.join(dir, 'slurmd.log')}`,
    // Nothing here needs cgroups (a container may not have them to give): jobs are tracked by
    // their process tree and not confined.
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'JobAcctGatherType=jobacct_gather/none',
    'AccountingStorageType=accounting_storage/none',
    'MpiDefault=none',
    'MailProg=/bin/true',
    // Cores are allocated, memory is only checked against the node's: jobs asking no memory do not
    // each take all of it.
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_Core',
    'ReturnToService=2',
    `NodeName=localhost NodeAddr=127.0.0.1 ${hardware} State=UNKNOWN`,
    'PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP',
    '',
  ].join('\n');
}

function parseJobs(text: string): JobRecord[] {
  return text
    .split('\n')
    .filter((line) => line.includes('JobId='))
    .map((line) => {
      const field = (key: string) => new RegExp(`(?:^|\\s)${key}=(\\S*)`).exec(line)?.[1];
      const arrayTaskId = field('ArrayTaskId');
      return { jobId: field('JobId')!, ...(arrayTaskId ? { arrayTaskId } : {}), state: field('JobState') ?? '?', reason: field('Reason') ?? '', exitCode: field('ExitCode') ?? '' };
    });
}

/** Starts the cluster and waits until its node is idle; throws SlurmUnavailable, having cleaned up, when it cannot. */
export async function startSlurm(): Promise<SlurmCluster> {
  const programs = findPrograms();
  const hardware = nodeHardware(programs.slurmd);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-slurm-'));
  // munged refuses a socket in a folder others cannot enter, and a key others can read.
  chmodSync(dir, 0o755);
  for (const sub of ['munge', 'state', 'spool']) mkdirSync(path.join(dir, sub), { mode: 0o755 });
  const key = path.join(dir, 'munge', 'munge.key');
  writeFileSync(key, randomBytes(1024), { mode: 0o600 });
  const conf = path.join(dir, 'slurm.conf');
  writeFileSync(conf, slurmConf(dir, { controller: await freePort(), node: await freePort() }, hardware));
  const env = { SLURM_CONF: conf };
  const daemonEnv = { ...process.env, ...env };
  const daemons: { name: string; process: GroupProcess }[] = [];

  const command: SlurmCluster['command'] = (name, args, options = {}) =>
    runProcess((programs as Record<string, string>)[name] ?? name, args, { cwd: options.cwd ?? dir, env: { ...process.env, ...options.env, ...env } });
  const logs = () => daemons.map((d) => `--- ${d.name}\n${d.process.output().slice(-4000)}`).join('\n');
  const stop = async () => {
    if (daemons.some((d) => d.name === 'slurmctld' && d.process.child.exitCode === null)) {
      // Jobs run under slurmstepd, outside the daemons' process groups: they go first.
      await command('scancel', ['--user', os.userInfo().username]);
      for (let waited = 0; waited < 15_000; waited += 250) {
        const queue = await command('squeue', ['--noheader']);
        if (queue.code !== 0 || queue.stdout.trim() === '') break;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    for (const d of [...daemons].reverse()) await stopGroup(d.process.child.pid);
    rmSync(dir, { recursive: true, force: true });
  };
  const start = (name: string, args: readonly string[]) => daemons.push({ name, process: spawnGroup(name, (programs as Record<string, string>)[name]!, args, { cwd: dir, env: daemonEnv }) });
  const failed = () => daemons.find((d) => d.process.child.exitCode !== null);

  try {
    start('munged', ['--foreground', `--socket=${path.join(dir, 'munge', 'munge.socket')}`, `--key-file=${key}`, `--log-file=${path.join(dir, 'munged.log')}`, `--pid-file=${path.join(dir, 'munged.pid')}`, `--seed-file=${path.join(dir, 'munged.seed')}`]);
    start('slurmctld', ['-D', '-f', conf]);
    start('slurmd', ['-D', '-N', 'localhost', '-f', conf]);
    const deadline = Date.now() + 60_000;
    let state = '';
    while (Date.now() < deadline) {
      const down = failed();
      if (down) throw new SlurmUnavailable(`${down.name} exited with code ${down.process.child.exitCode}:\n${down.process.output().slice(-3000)}`);
      const sinfo = await command('sinfo', ['--noheader', '--Node', '--format=%T']);
      state = sinfo.stdout.trim() || sinfo.stderr.trim();
      if (sinfo.code === 0 && state === 'idle') return { dir, env, command, waitForJobs, logs, stop };
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new SlurmUnavailable(`the node was not idle within 60 s (sinfo: ${state || 'nothing'}):\n${logs()}`);
  } catch (error) {
    await stop();
    throw error;
  }

  async function waitForJobs(jobIds: readonly string[], timeoutMs: number): Promise<JobRecord[]> {
    const deadline = Date.now() + timeoutMs;
    let jobs: JobRecord[] = [];
    while (Date.now() < deadline) {
      jobs = [];
      for (const id of jobIds) {
        const shown = await command('scontrol', ['--oneliner', 'show', 'job', id]);
        if (shown.code !== 0) throw new Error(`scontrol show job ${id}: ${shown.stderr.trim()}`);
        jobs.push(...parseJobs(shown.stdout));
      }
      // A job whose dependency failed would wait for ever: it has ended as much as a cancelled one.
      if (jobs.every((j) => !ACTIVE_STATES.has(j.state) || j.reason === 'DependencyNeverSatisfied')) return jobs;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`jobs ${jobIds.join(', ')} still running after ${timeoutMs / 1000} s: ${jobs.map((j) => `${j.jobId} ${j.state} (${j.reason})`).join('; ')}\n${logs()}`);
  }
}

/**
 * startSlurm for a test file: where Slurm cannot start, undefined after one line saying why (and
 * how to make it a failure), unless FER_REQUIRE_SLURM=1, where it throws.
 */
export async function slurmForTests(): Promise<SlurmCluster | undefined> {
  try {
    return await startSlurm();
  } catch (error) {
    if (slurmRequired || !(error instanceof SlurmUnavailable)) throw error;
    console.warn(`Slurm tests skipped: ${error.message.split('\n')[0]} (FER_REQUIRE_SLURM=1 makes this a failure)`);
    return undefined;
  }
}
