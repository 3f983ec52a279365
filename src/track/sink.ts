import { FerError } from '../core/errors.js';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isDiskFull } from '../core/durable-file.js';
import path from 'node:path';
import { journalWriter, type JournalEntry } from './journal.js';

/**
 * The seam between the journal and where runs are shown. A Sink is one destination (an MLflow
 * server, a TensorBoard log folder); for each journal it opens a JournalSink that replays the
 * journal from a cursor of its own, exactly once as that destination shows it, so a run reaches
 * every sink whatever happened to the others. A new kind of sink is a folder under sinks/ and a
 * line in sink-kinds.ts.
 */
export interface Sink {
  /** The kind, as sink-kinds.ts lists it: `mlflow`, `tensorboard`. */
  readonly kind: string;
  /** What the destination is: `MLflow`, `TensorBoard`. */
  readonly title: string;
  /** For messages: `MLflow http://127.0.0.1:5000`, `TensorBoard runs/tb`. */
  readonly label: string;
  /** What `fer sync --to` takes to deliver here. */
  readonly target: string;
  /** The `--to` a later `fer sync` of this run needs (undefined: it finds this sink by itself). */
  readonly syncTo: string | undefined;
  /** Where runs of this experiment go, for the line a run starts with. */
  describe(experiment: string): string;
  /**
   * Checks the destination before training. Throws SinkUnavailableError when it cannot be reached
   * now (training goes on, events wait in the journal), anything else when the run must not start
   * (wrong credentials): better at once than hours later.
   */
  preflight(experiment: string): Promise<void>;
  /** The delivery of one journal of a run folder to this destination. */
  open(journal: JournalRef): JournalSink;
  close(): Promise<void>;
}

export interface JournalRef {
  runDir: string;
  journalFile: string;
  /** The experiment to use instead of the one recorded in the journal (fer sync --experiment). */
  experiment?: string;
  /** Called for each entry the destination refused, so the user hears of it at once. */
  onRejected?: (entry: JournalEntry, error: Error) => void;
}

export interface JournalSink {
  readonly sink: Sink;
  /**
   * Delivers every entry after the cursor, moving the cursor past each entry once the destination
   * holds it durably. Throws SinkUnavailableError when the destination is away (the cursor stays at
   * the last entry it holds); any other error stops delivery until someone acts, with a `hint`.
   * An entry the destination refuses is kept in the state file's `rejected` list, and delivery goes on.
   */
  deliver(): Promise<DeliveryReport>;
  /** Entries the destination does not hold yet: after the cursor, and held. */
  pending(): number;
  /**
   * Entries this destination cannot take from here (artifacts for an artifact store fer cannot
   * write) and why: kept for a later delivery while everything after them goes on. Undefined when none.
   */
  held(): HeldEntries | undefined;
  /** After delivery: the destination's name for the parent run and where to see it, when it has them. */
  result(): { parentRunId?: string; link?: string };
}

export interface HeldEntries {
  entries: number;
  error: SinkBlockedError;
}

export interface DeliveryReport {
  delivered: number;
  pending: number;
  rejected: { seq: number; error: string }[];
}

/** The destination cannot be reached now: entries wait in the journal and delivery retries later. */
export class SinkUnavailableError extends FerError {
  /** What went wrong, without naming the destination again (for "<label> is not reachable now (<detail>)"). */
  readonly detail: string;

  constructor(message: string, detail?: string) {
    super(message);
    this.name = 'SinkUnavailableError';
    this.detail = detail ?? message;
  }
}

/** Delivery to this destination cannot go on until someone acts; `hint` says what to do. */
export class SinkBlockedError extends FerError {
  constructor(message: string, hint?: string) {
    super(message, hint);
    this.name = 'SinkBlockedError';
  }
}

/**
 * The delivery-state file of one journal for one destination: tracking/delivered-<digest of the
 * target>-<writer>.json. For MLflow the target is the server URI, as it has always been, so state
 * files written before sinks existed are found again.
 */
export function deliveryStateFile(journalFile: string, target: string): string {
  const digest = createHash('sha256').update(target).digest('hex').slice(0, 12);
  return path.join(path.dirname(journalFile), `delivered-${digest}-${journalWriter(journalFile)}.json`);
}

/** Reads a delivery state; a missing or damaged file gives `fresh` (a replay, which each sink makes harmless). */
export function readDeliveryState<T extends { cursor: number }>(file: string, fresh: T): T {
  if (existsSync(file)) {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as T;
    } catch {
      // A damaged state file costs a replay.
    }
  }
  return fresh;
}

export function writeDeliveryState(file: string, state: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(temporary, file);
  } catch (error) {
    // A cursor not saved on a full disk costs a replay later, which every sink makes harmless.
    rmSync(temporary, { force: true });
    if (!isDiskFull(error)) throw error;
  }
}
