import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, openSync, readFileSync, readlinkSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Lock files for run folders: who is running a run, a shard of it or one of its tasks, so that two
 * processes never train the same thing into the same folder. A lock is a small JSON file naming its
 * owner, created atomically (written aside, then hard-linked into place, which fails if the file
 * exists) and removed when its owner ends, also on Ctrl-C, errors and process.exit. An owner killed
 * without a chance to clean up (kill -9, a lost machine) leaves its file; the next process takes it
 * over when it is stale:
 *   - on the same machine (same host name, boot and pid namespace), when the owner's pid is not
 *     running, or is running but started at another time (the pid was recycled);
 *   - from another machine, when its heartbeat (the file's mtime, renewed every HEARTBEAT_SECONDS)
 *     is older than STALE_SECONDS (300, or FER_LOCK_STALE_SECONDS). Machines sharing a runs folder
 *     need clocks within that bound.
 */
export const STALE_SECONDS = staleSeconds(process.env.FER_LOCK_STALE_SECONDS);
export const HEARTBEAT_SECONDS = STALE_SECONDS / 10;

function staleSeconds(text: string | undefined): number {
  const value = Number(text);
  return text !== undefined && text !== '' && Number.isFinite(value) && value > 0 ? value : 300;
}

export interface LockOwner {
  pid: number;
  host: string;
  /** When the lock was taken (ISO). */
  since: string;
  /** What holds it: the command line, for people reading the message. */
  command: string;
  /** Identifies this lock among others of the same owner. */
  nonce: string;
  /** Linux: the boot and the pid namespace the pid belongs to, and when the process started. */
  boot?: string;
  pidNamespace?: string;
  processStart?: string;
}

export type LockAttempt = { held: HeldLock; tookOver?: { owner: LockOwner; reason: string } } | { owner: LockOwner };

const held = new Set<HeldLock>();
let heartbeat: NodeJS.Timeout | undefined;
let exitHook = false;

export class HeldLock {
  private released = false;

  constructor(
    readonly file: string,
    readonly owner: LockOwner,
  ) {}

  /** Whether the file is still this lock's (another process may have judged it stale). */
  isMine(): boolean {
    return readOwner(this.file)?.nonce === this.owner.nonce;
  }

  /** Removes the file if it is still this lock's. Idempotent; safe in an exit handler. */
  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this);
    if (held.size === 0 && heartbeat) {
      clearInterval(heartbeat);
      heartbeat = undefined;
    }
    try {
      if (this.isMine()) unlinkSync(this.file);
    } catch {
      // already gone
    }
  }

  /** Renews the heartbeat (the file's mtime) while the file is still this lock's. */
  touch(now = new Date()): void {
    try {
      if (this.isMine()) utimesSync(this.file, now, now);
    } catch {
      // the folder went away: nothing to keep alive
    }
  }
}

/** The owner a lock file names; undefined when there is none (or it cannot be read). */
export function readOwner(file: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(file, 'utf8')) as LockOwner;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? owner : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the lock `file` for `command`: the held lock (after taking over a stale one, said so), or
 * the live owner that holds it.
 */
export function acquireLock(file: string, command: string, options: { now?: () => number; alsoStale?: (owner: LockOwner) => string | undefined } = {}): LockAttempt {
  const now = options.now ?? Date.now;
  mkdirSync(path.dirname(file), { recursive: true });
  const me = self(command);
  let tookOver: { owner: LockOwner; reason: string } | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (create(file, me)) {
      const lock = new HeldLock(file, me);
      keep(lock);
      return { held: lock, ...(tookOver ? { tookOver } : {}) };
    }
    let stat;
    try {
      stat = statSync(file);
    } catch {
      continue; // released meanwhile: try again
    }
    const owner = readOwner(file);
    const reason = owner ? (options.alsoStale?.(owner) ?? staleness(owner, stat.mtimeMs, now())) : now() - stat.mtimeMs > STALE_SECONDS * 1000 ? 'an unreadable lock file, untouched for too long' : undefined;
    if (reason === undefined) {
      // Alive, or a lock file being written this instant.
      return { owner: owner ?? { pid: 0, host: 'unknown', since: new Date(stat.mtimeMs).toISOString(), command: 'unknown (unreadable lock file)', nonce: '' } };
    }
    if (removeStale(file, stat.ino) && owner) tookOver = { owner, reason };
  }
  throw new Error(`could not take the lock ${file}: other processes kept taking it`);
}

/** The live owner of a lock file, if any (a stale lock has none). */
export function liveOwner(file: string, now = Date.now()): LockOwner | undefined {
  let mtime: number;
  try {
    mtime = statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
  const owner = readOwner(file);
  if (!owner) return now - mtime > STALE_SECONDS * 1000 ? undefined : { pid: 0, host: 'unknown', since: new Date(mtime).toISOString(), command: 'unknown (unreadable lock file)', nonce: '' };
  return staleness(owner, mtime, now) === undefined ? owner : undefined;
}

/** `pid 1234 on host gpu-3 (fer run configs/demo.yaml), since 2025-01-02 10:11:12` */
export function describeOwner(owner: LockOwner): string {
  return `pid ${owner.pid} on ${owner.host} (${owner.command}), since ${owner.since.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}`;
}

/** Whether two owners are one process (one process's locks all go stale together). */
export function sameProcess(a: LockOwner, b: LockOwner): boolean {
  return a.host === b.host && a.pid === b.pid && a.boot === b.boot && a.pidNamespace === b.pidNamespace && a.processStart === b.processStart;
}

/** Whether a lock's owner runs on this machine, where its pid can be checked. */
export function onThisMachine(owner: LockOwner): boolean {
  const me = machine();
  return owner.host === os.hostname() && (owner.boot === undefined || me.boot === undefined || owner.boot === me.boot) && (owner.pidNamespace === undefined || me.pidNamespace === undefined || owner.pidNamespace === me.pidNamespace);
}

/** Why a lock is stale, or undefined while its owner may be alive. */
export function staleness(owner: LockOwner, mtimeMs: number, now: number): string | undefined {
  if (onThisMachine(owner)) {
    if (!pidAlive(owner.pid)) return `pid ${owner.pid} is no longer running`;
    if (owner.processStart !== undefined) {
      const start = processStart(owner.pid);
      if (start !== undefined && start !== owner.processStart) return `pid ${owner.pid} is another process now`;
    }
    return undefined;
  }
  const age = (now - mtimeMs) / 1000;
  return age > STALE_SECONDS ? `no heartbeat from ${owner.host} for ${Math.round(age)} s (more than ${STALE_SECONDS} s)` : undefined;
}

function self(command: string): LockOwner {
  const { boot, pidNamespace } = machine();
  const start = processStart(process.pid);
  return {
    pid: process.pid,
    host: os.hostname(),
    since: new Date().toISOString(),
    command,
    nonce: randomUUID(),
    ...(boot ? { boot } : {}),
    ...(pidNamespace ? { pidNamespace } : {}),
    ...(start ? { processStart: start } : {}),
  };
}

/** Creates `file` holding `owner` if it does not exist, all at once: readers never see half a lock. */
function create(file: string, owner: LockOwner): boolean {
  const text = `${JSON.stringify(owner, null, 2)}\n`;
  const aside = `${file}.${process.pid}.${owner.nonce.slice(0, 8)}.tmp`;
  writeFileSync(aside, text);
  try {
    linkSync(aside, file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // A file system without hard links: O_EXCL creation, written right after.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
    let fd: number;
    try {
      fd = openSync(file, 'wx');
    } catch (inner) {
      if ((inner as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw inner;
    }
    writeFileSync(fd, text);
    closeSync(fd);
    return true;
  } finally {
    try {
      unlinkSync(aside);
    } catch {
      // gone already
    }
  }
}

/**
 * Moves a stale lock aside, only if it is still the file judged stale (same inode): between the
 * judgement and the move another process may have taken over and written its own lock, which then
 * goes back in place. True when the stale lock was removed.
 */
function removeStale(file: string, ino: number): boolean {
  const aside = `${file}.stale-${process.pid}-${randomUUID().slice(0, 8)}`;
  try {
    renameSync(file, aside);
  } catch {
    return false; // someone else moved it
  }
  let movedIno: number | undefined;
  try {
    movedIno = statSync(aside).ino;
  } catch {
    movedIno = undefined;
  }
  if (movedIno !== ino) {
    try {
      linkSync(aside, file);
    } catch {
      // a third process has a lock there now: it wins
    }
    unlinkSync(aside);
    return false;
  }
  unlinkSync(aside);
  return true;
}

function keep(lock: HeldLock): void {
  held.add(lock);
  if (!heartbeat) {
    heartbeat = setInterval(() => {
      for (const l of held) l.touch();
    }, HEARTBEAT_SECONDS * 1000);
    heartbeat.unref();
  }
  if (!exitHook) {
    exitHook = true;
    // process.exit (a second Ctrl-C) skips finally blocks; this still runs, synchronously.
    process.on('exit', () => {
      for (const l of [...held]) l.release();
    });
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let machineCache: { boot?: string; pidNamespace?: string } | undefined;
function machine(): { boot?: string; pidNamespace?: string } {
  if (!machineCache) {
    machineCache = {};
    try {
      machineCache.boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      // not Linux
    }
    try {
      machineCache.pidNamespace = readlinkSync('/proc/self/ns/pid');
    } catch {
      // not Linux
    }
  }
  return machineCache;
}

/** Linux: when a process started (clock ticks since boot, /proc/<pid>/stat field 22); a recycled pid has another. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
