import { FerError } from '../core/errors.js';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquireLock, describeOwner, HEARTBEAT_SECONDS, liveOwner, onThisMachine, sameProcess, STALE_SECONDS, type HeldLock, type LockOwner } from './lock.js';
import { taskDir } from './run-folder.js';
import type { Task } from './tasks.js';

/**
 * Who may write what in a run folder (store/lock.ts has how locks work and when one is stale):
 *   run.lock                    a `fer run` or `fer run --collect`: one at a time per run folder
 *   shard-<i>-of-<n>.lock       a `fer run --shard i/n`: one per shard (it owns that shard's journal)
 *   tasks/<member>/<fold>/claim.lock   whoever trains the task, while it does: shards and runs
 *                               sharing a folder take only the tasks no one holds
 */
export class RunBusyError extends FerError {
  constructor(message: string, hint?: string) {
    super(message, hint);
    this.name = 'RunBusyError';
  }
}

export interface ClaimResult {
  claimed: Task[];
  /** Tasks a live process is training. */
  elsewhere: { key: string; owner: LockOwner }[];
  /** Tasks whose claim was left by a process that is gone. */
  tookOver: { key: string; owner: LockOwner; reason: string }[];
}

export function runLockFile(runDir: string, shard?: { index: number; count: number }): string {
  return path.join(runDir, shard ? `shard-${shard.index}-of-${shard.count}.lock` : 'run.lock');
}

export function taskClaimFile(runDir: string, key: string): string {
  return path.join(taskDir(runDir, key), 'claim.lock');
}

export class RunLocks {
  private readonly claims = new Map<string, HeldLock>();

  private constructor(
    readonly runDir: string,
    private readonly lock: HeldLock | undefined,
    private readonly command: string,
    /** Set when the run's lock was left by a process that is gone. */
    readonly tookOver?: { owner: LockOwner; reason: string },
  ) {}

  /**
   * Takes the run's lock (or the shard's): throws RunBusyError naming the live holder, before
   * anything in the folder is written. A shard held from another machine is waited for, up to the
   * staleness bound: a job array's retry of a shard whose machine was lost then takes it over
   * instead of failing while the dead holder's heartbeat is still recent.
   */
  static async take(runDir: string, command: string, shard?: { index: number; count: number }, log: (text: string) => void = () => {}): Promise<RunLocks> {
    const file = runLockFile(runDir, shard);
    const what = shard ? `shard ${shard.index}/${shard.count} of this run` : 'this run';
    const deadline = Date.now() + (STALE_SECONDS + 2 * HEARTBEAT_SECONDS) * 1000;
    let waiting = false;
    for (;;) {
      const attempt = acquireLock(file, command);
      if ('held' in attempt) return new RunLocks(runDir, attempt.held, command, attempt.tookOver);
      if (!shard || onThisMachine(attempt.owner) || Date.now() > deadline) {
        throw new RunBusyError(`${what} is being run by ${describeOwner(attempt.owner)} (${file})`, 'wait for it to end or stop it, then run again (a lock left by a process that is gone is taken over)');
      }
      if (!waiting) log(`${what} is held by ${describeOwner(attempt.owner)}: waiting up to ${STALE_SECONDS} s for it to end or for its heartbeat to stop`);
      waiting = true;
      await sleep(Math.min(5000, (HEARTBEAT_SECONDS * 1000) / 2));
    }
  }

  /**
   * No lock, for a `--collect` of a run folder that does not exist: there is nothing to guard, and
   * taking a lock would create the folder it is about to say is missing.
   */
  static none(runDir: string, command: string): RunLocks {
    return new RunLocks(runDir, undefined, command);
  }

  /** Claims each task no live process holds; the claims last until release(). */
  claim(tasks: readonly Task[]): ClaimResult {
    const result: ClaimResult = { claimed: [], elsewhere: [], tookOver: [] };
    for (const task of tasks) {
      // Claims of the process whose run lock was stale are stale with it, whatever their heartbeat.
      const gone = this.tookOver;
      const attempt = acquireLock(taskClaimFile(this.runDir, task.key), this.command, gone ? { alsoStale: (owner) => (sameProcess(owner, gone.owner) ? gone.reason : undefined) } : {});
      if ('owner' in attempt) {
        result.elsewhere.push({ key: task.key, owner: attempt.owner });
        continue;
      }
      this.claims.set(task.key, attempt.held);
      result.claimed.push(task);
      if (attempt.tookOver) result.tookOver.push({ key: task.key, ...attempt.tookOver });
    }
    return result;
  }

  release(key: string): void {
    this.claims.get(key)?.release();
    this.claims.delete(key);
  }

  releaseAll(): void {
    for (const key of [...this.claims.keys()]) this.release(key);
    this.lock?.release();
  }
}

/** Tasks some live process is training (their claim is not stale). */
export function claimedTasks(runDir: string, tasks: readonly Task[]): { key: string; owner: LockOwner }[] {
  return tasks.flatMap((task) => {
    const owner = liveOwner(taskClaimFile(runDir, task.key));
    return owner ? [{ key: task.key, owner }] : [];
  });
}
