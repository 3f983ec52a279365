import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { JournalEntry, TrackEvent } from './events.js';
import { upgradeEntry } from './journal-compat.js';
import { diskFullOr } from '../core/durable-file.js';

export type { DatasetRecord, JournalEntry, MetricPoint, ModelFile, RunSource, TrackEvent, TrackStatus } from './events.js';

/**
 * The tracking journal: every event of a run, appended to runs/<exp>/<run>/tracking/journal-<writer>.jsonl
 * and synced to disk before anything is sent anywhere. It is the run's tracking record whether or
 * not a sink (MLflow, TensorBoard) is configured: each sink replays it, during the run or later with
 * `fer sync`, and keeps a cursor per journal saying how far it got. Each process writing to a run
 * folder (one per shard) has its own journal, so concurrent writers never interleave lines.
 *
 * The events say what happened to a run in fer's own terms; how a sink lays them out (MLflow's
 * system tags and dataset inputs, TensorBoard's event files) is the sink's business. Runs are named
 * by local keys: `parent` for the experiment run, the task key (`cnn_1/fold_2`) for a child.
 */
export const PARENT_RUN = 'parent';

export function trackingDir(runDir: string): string {
  return path.join(runDir, 'tracking');
}

/** The journal of one writer (`main`, `shard-2-of-4`) of a run folder. */
export function journalFile(runDir: string, writer: string): string {
  return path.join(trackingDir(runDir), `journal-${writer}.jsonl`);
}

export function journalFiles(runDir: string): string[] {
  const dir = trackingDir(runDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^journal-.+\.jsonl$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

/** The writer a journal belongs to (`main` for journal-main.jsonl), which names its delivery cursors. */
export function journalWriter(file: string): string {
  return path.basename(file, '.jsonl').replace(/^journal-/, '');
}

/**
 * Reads a journal. A line cut short by a crash mid-write is skipped: its event was never
 * acknowledged to anyone, and the writer records it again from the run folder's files. Entries
 * written by earlier versions of fer are read as today's events.
 */
export function readJournal(file: string): JournalEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: JournalEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    out.push(upgradeEntry(parsed as Record<string, unknown>));
  }
  return out;
}

/** Appends events to one journal file, each synced to disk before `append` returns. */
export class JournalWriter {
  private seq: number;
  private fd: number | undefined;

  constructor(readonly file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    const entries = readJournal(file);
    this.seq = entries.length > 0 ? entries[entries.length - 1]!.seq : 0;
    // After a torn last line, a newline first keeps the next event on a line of its own.
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    try {
      this.fd = openSync(file, 'a');
      if (text.length > 0 && !text.endsWith('\n')) writeSync(this.fd, '\n');
    } catch (error) {
      throw diskFullOr(error, file, 1);
    }
  }

  get lastSeq(): number {
    return this.seq;
  }

  append(event: TrackEvent): JournalEntry {
    if (this.fd === undefined) throw new Error(`journal ${this.file} is closed`);
    const entry = { seq: this.seq + 1, ...event } as JournalEntry;
    const line = `${JSON.stringify(entry)}\n`;
    try {
      writeSync(this.fd, line);
      fsyncSync(this.fd);
    } catch (error) {
      // A line cut short by a full disk is skipped by readers; the event is not counted as written.
      throw diskFullOr(error, this.file, Buffer.byteLength(line));
    }
    this.seq++;
    return entry;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
