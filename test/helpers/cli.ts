import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ferBin = path.join(repoRoot, 'bin', 'fer.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end in its own process, collecting what it prints. */
export function runProcess(command: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the real `fer` command (the built dist/) as a user would, in its own process. */
export function runFer(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return runProcess(process.execPath, [ferBin, ...args], { cwd: options.cwd ?? repoRoot, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, ...options.env } });
}

/** Runs `tasks` with at most `limit` in flight (the CI machine has two cores). */
export async function inPool<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!);
    }
  });
  await Promise.all(workers);
  return results;
}

/** A stack trace line, which must never reach a user for a config problem. */
export const STACK_TRACE = /^\s+at .+:\d+:\d+\)?$/m;

/**
 * Kills a detached `fer run` (its whole process group, workers included) without warning once the
 * task `taskKey` of experiment `experiment` under `runsDir` has `epochs` epochs in its metrics.json.
 */
export async function killAtEpoch(child: ChildProcess, runsDir: string, experiment: string, taskKey: string, epochs: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      try {
        const run = readdirSync(path.join(runsDir, experiment)).find((d) => d.startsWith('run-'));
        const file = run && path.join(runsDir, experiment, run, 'tasks', ...taskKey.split('/'), 'metrics.json');
        if (file && existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as unknown[]).length >= epochs) {
          clearInterval(timer);
          process.kill(-child.pid!, 'SIGKILL');
          resolve();
        }
      } catch {
        // not there yet
      }
      if (Date.now() - started > 120_000) {
        clearInterval(timer);
        reject(new Error(`the run never reached epoch ${epochs}`));
      }
    }, 50);
  });
  await new Promise((r) => child.on('exit', r));
}

/**
 * Kills a detached `fer run` the way a loaded machine sometimes does by chance: after its worker has
 * finished epoch `epoch` of `taskKey` (checkpoint and metrics.json written) but before the runner
 * has journaled that epoch. The runner (the detached process) is stopped with SIGSTOP once the
 * task has `epoch - 1` epochs in metrics.json; its workers are processes of their own and go on
 * training, so epoch `epoch` reaches the run folder while the runner cannot take in the worker's
 * message; then the whole process group is killed.
 */
export async function killBeforeJournaled(child: ChildProcess, runsDir: string, experiment: string, taskKey: string, epoch: number): Promise<void> {
  const epochsDone = (): number => {
    const run = readdirSync(path.join(runsDir, experiment)).find((d) => d.startsWith('run-'));
    const file = run && path.join(runsDir, experiment, run, 'tasks', ...taskKey.split('/'), 'metrics.json');
    return file && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as unknown[]).length : 0;
  };
  let stopped = false;
  await new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      try {
        const done = epochsDone();
        if (!stopped && done >= epoch - 1) {
          process.kill(child.pid!, 'SIGSTOP');
          stopped = true;
        } else if (stopped && done >= epoch) {
          clearInterval(timer);
          process.kill(-child.pid!, 'SIGKILL');
          resolve();
        }
      } catch {
        // not there yet (or metrics.json caught mid-rename)
      }
      if (Date.now() - started > 180_000) {
        clearInterval(timer);
        if (stopped) process.kill(-child.pid!, 'SIGKILL');
        reject(new Error(`the run never reached epoch ${stopped ? epoch : epoch - 1} of ${taskKey}`));
      }
    }, 50);
  });
  await new Promise((r) => child.on('exit', r));
}
