import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { DatasetInput, MetricPoint } from './mlflow-client.js';

/**
 * The tracking journal: every event of a run, appended to runs/<exp>/<run>/tracking/journal-<writer>.jsonl
 * and synced to disk before anything is sent anywhere. It is the run's tracking record whether or
 * not a server is configured: delivery to MLflow (during the run, or later by `fer sync`) replays it,
 * and a cursor per server says how far it got. Each process writing to a run folder (one per shard)
 * has its own journal, so concurrent writers never interleave lines.
 *
 * Runs are named by local keys: `parent` for the experiment run, the task key (`cnn_1/fold_2`) for
 * a child; delivery maps them to MLflow run ids.
 */
export type TrackStatus = 'FINISHED' | 'FAILED' | 'KILLED';

export type TrackEvent =
  | { type: 'open'; run: string; name: string; experiment: string; parent?: string; startTime: number; tags: Record<string, string> }
  | { type: 'params'; run: string; params: Record<string, string> }
  | { type: 'tags'; run: string; tags: Record<string, string> }
  | { type: 'metrics'; run: string; points: MetricPoint[] }
  /** A file of the run folder (path relative to it) to store as the artifact `path`. */
  | { type: 'artifact'; run: string; file: string; path: string; digest: string }
  | { type: 'dataset'; run: string; input: DatasetInput }
  | { type: 'close'; run: string; status: TrackStatus; endTime: number };

export type JournalEntry = TrackEvent & { seq: number };

export const PARENT_RUN = 'parent';

export function trackingDir(runDir: string): string {
  return path.join(runDir, 'tracking');
}

export function journalFiles(runDir: string): string[] {
  const dir = trackingDir(runDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^journal-.+\.jsonl$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

/**
 * Reads a journal. A line cut short by a crash mid-write is skipped: its event was never
 * acknowledged to anyone, and the writer records it again from the run folder's files.
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
    try {
      out.push(JSON.parse(line) as JournalEntry);
    } catch {
      continue;
    }
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
    this.fd = openSync(file, 'a');
    if (text.length > 0 && !text.endsWith('\n')) writeSync(this.fd, '\n');
  }

  get lastSeq(): number {
    return this.seq;
  }

  append(event: TrackEvent): JournalEntry {
    if (this.fd === undefined) throw new Error(`journal ${this.file} is closed`);
    const entry = { seq: ++this.seq, ...event } as JournalEntry;
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
    fsyncSync(this.fd);
    return entry;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
