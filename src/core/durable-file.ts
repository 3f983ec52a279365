import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statfsSync, writeSync } from 'node:fs';
import path from 'node:path';
import { FerError } from './errors.js';

/**
 * Files fer writes and later trusts (run.json, task status, checkpoints, saved models, predictions,
 * summaries): each is written whole or not at all, and carries its SHA-256, so a file damaged after
 * it was written (truncated by a full disk, a copy cut short, a flipped bit) is named on read
 * instead of being read as something else.
 * - Atomic: written to a temporary file beside it, synced to disk, renamed over the old one, and the
 *   folder synced, so a crash at any moment leaves the old file or the new one.
 * - Checksummed: `<file>.sha256` beside it, in `sha256sum`'s format (`sha256sum -c` checks it),
 *   written after the file. A crash between the two renames leaves a mismatch that reads as damage:
 *   every reader treats damage by retraining or refusing, never by trusting.
 * - Disk full: a write that finds no space removes what it wrote and throws a DiskFullError naming
 *   the path and the space it needed.
 * In core/ because the tracking journal (track/, which may not import store/) uses the disk-full
 * error too.
 */

export const CHECKSUM_SUFFIX = '.sha256';

/** A file fer wrote does not have the content its checksum says: named, with what differs. */
export class DamagedFileError extends FerError {
  constructor(
    readonly file: string,
    readonly reason: string,
    hint?: string,
  ) {
    super(`${file} is damaged: ${reason}`, hint);
  }
}

/** No space left where fer writes: the path, the space the write needed and what was free. */
export class DiskFullError extends FerError {
  constructor(
    readonly file: string,
    readonly needed: number,
    readonly free: number | undefined,
  ) {
    super(
      `no space left on device writing ${file}: needs ${formatBytes(needed)}${free !== undefined ? `, ${formatBytes(free)} free` : ''}`,
      'free some space (or use another runs folder, --runs) and run the same command again: finished tasks are kept and cut ones resume',
    );
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

export function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** Free bytes for an unprivileged writer on the file system holding `file` (its nearest existing folder). */
export function freeSpace(file: string): number | undefined {
  let dir = path.dirname(file);
  while (!existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  try {
    const stats = statfsSync(dir);
    return Number(stats.bavail) * Number(stats.bsize);
  } catch {
    return undefined;
  }
}

/** A DiskFullError for `file` when `error` is the disk being full; else `error` itself. */
export function diskFullOr(error: unknown, file: string, needed: number): unknown {
  return isDiskFull(error) ? new DiskFullError(file, needed, freeSpace(file)) : error;
}

export function sha256(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems cannot sync a folder; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function writeSynced(file: string, content: Buffer | readonly Buffer[]): void {
  const fd = openSync(file, 'w');
  try {
    for (const part of Buffer.isBuffer(content) ? [content] : content) {
      let written = 0;
      while (written < part.length) written += writeSync(fd, part, written, part.length - written);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `file` through a synced temporary file and a rename. Throws DiskFullError on a full disk. */
function replaceAtomically(file: string, content: Buffer | readonly Buffer[]): void {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeSynced(temporary, content);
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw diskFullOr(error, file, byteLength(content));
  }
}

function byteLength(content: Buffer | readonly Buffer[]): number {
  return Buffer.isBuffer(content) ? content.length : content.reduce((n, part) => n + part.length, 0);
}

/**
 * Writes `file` atomically with its checksum beside it (`<file>.sha256`). On a full disk, nothing
 * new is left behind and a DiskFullError names the file.
 */
export function writeDurable(file: string, content: string | Uint8Array | readonly Uint8Array[]): void {
  // Parts (a checkpoint's tensors, say) are written one after another: no joined copy of them all.
  const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts = typeof content === 'string' ? [Buffer.from(content)] : content instanceof Uint8Array ? [asBuffer(content)] : content.map(asBuffer);
  try {
    mkdirSync(path.dirname(file), { recursive: true });
  } catch (error) {
    throw diskFullOr(error, file, byteLength(parts));
  }
  replaceAtomically(file, parts);
  replaceAtomically(`${file}${CHECKSUM_SUFFIX}`, Buffer.from(checksumLine(file, parts)));
  fsyncDirectory(path.dirname(file));
}

function checksumLine(file: string, parts: readonly Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return `${hash.digest('hex')}  ${path.basename(file)}\n`;
}

/**
 * For a small state file (run.json, status.json) that must say how things ended even on a full
 * disk: the atomic write, and when the disk has no room for a temporary copy, an overwrite in
 * place (an existing small file's block holds the new text without asking for space). Not atomic:
 * only for a last word, whose checksum then tells a torn overwrite from a whole one.
 */
export function writeStateDurable(file: string, content: string): void {
  try {
    writeDurable(file, content);
    return;
  } catch (error) {
    if (!(error instanceof DiskFullError) || !existsSync(file)) throw error;
  }
  const bytes = Buffer.from(content);
  overwriteInPlace(file, bytes);
  overwriteInPlace(`${file}${CHECKSUM_SUFFIX}`, Buffer.from(checksumLine(file, [bytes])));
}

function overwriteInPlace(file: string, content: Buffer): void {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r+');
    writeSync(fd, content, 0, content.length, 0);
    ftruncateSync(fd, content.length);
    fsyncSync(fd);
  } catch (error) {
    throw diskFullOr(error, file, content.length);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** What a file's checksum says of it: intact, unchecked (written before fer kept checksums), missing, or damaged (why). */
export type FileCheck = { state: 'ok' | 'unchecked'; content: Buffer } | { state: 'missing' } | { state: 'damaged'; reason: string };

export function checkFile(file: string): FileCheck {
  let content: Buffer;
  try {
    content = readFileSync(file);
  } catch {
    return existsSync(`${file}${CHECKSUM_SUFFIX}`) ? { state: 'damaged', reason: 'the file is gone but its checksum is there' } : { state: 'missing' };
  }
  let line: string;
  try {
    line = readFileSync(`${file}${CHECKSUM_SUFFIX}`, 'utf8');
  } catch {
    return { state: 'unchecked', content };
  }
  const expected = /^([0-9a-f]{64})\s/.exec(line)?.[1];
  if (!expected) return { state: 'damaged', reason: `its checksum file ${path.basename(file)}${CHECKSUM_SUFFIX} is unreadable` };
  const actual = sha256(content);
  if (actual !== expected) return { state: 'damaged', reason: `its SHA-256 is ${actual.slice(0, 12)}, written as ${expected.slice(0, 12)} (${formatBytes(content.length)} now)` };
  return { state: 'ok', content };
}

/** A file's content once its checksum agrees; undefined when missing; throws DamagedFileError. */
export function readVerified(file: string, hint?: string): Buffer | undefined {
  const check = checkFile(file);
  if (check.state === 'missing') return undefined;
  if (check.state === 'damaged') throw new DamagedFileError(file, check.reason, hint);
  return check.content;
}

/** A JSON file's content once its checksum agrees; undefined when missing; throws DamagedFileError (also for JSON that does not parse). */
export function readVerifiedJson<T>(file: string, hint?: string): T | undefined {
  const content = readVerified(file, hint);
  if (content === undefined) return undefined;
  try {
    return JSON.parse(content.toString('utf8')) as T;
  } catch (error) {
    throw new DamagedFileError(file, `not valid JSON (${(error as Error).message})`, hint);
  }
}

/** Removes a file and its checksum. */
export function removeDurable(file: string): void {
  rmSync(file, { force: true });
  rmSync(`${file}${CHECKSUM_SUFFIX}`, { force: true });
}
