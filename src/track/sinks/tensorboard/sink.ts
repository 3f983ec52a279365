import { FerError } from '../../../core/errors.js';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { loadSummaryWriters, type ScalarWriter } from '../../../backend/summary-writer.js';
import { readJournal } from '../../journal.js';
import { deliveryStateFile, readDeliveryState, SinkBlockedError, writeDeliveryState, type DeliveryReport, type JournalRef, type JournalSink, type Sink } from '../../sink.js';
import { readScalars } from './event-file.js';

/**
 * A TensorBoard log folder as a sink: every metric point of a run becomes a scalar in TensorFlow's
 * event files, with the key as its tag and the same step MLflow gets. The folder mirrors runs/:
 * `<dir>/<config name>/<run folder>/parent` for the experiment run, `.../<member>/fold-<k>` for each
 * task, so `tensorboard --logdir <dir>` lists one TensorBoard run per fer run.
 *
 * Exactly once: event files are append-only and TensorBoard draws a step written twice as a
 * zig-zag, so before writing to a folder the first time in a process, delivery reads the scalars
 * its event files already hold and writes only (tag, step) pairs that are not there. The cursor
 * moves after the writer has flushed; a crash in between costs a replay that writes nothing twice.
 * Not covered: two processes writing the same folder at the same moment (shards finishing the
 * parent run together) can both write its final scalars.
 */
export const TARGET_PREFIX = 'tensorboard:';

export class TensorboardSink implements Sink {
  readonly kind = 'tensorboard';
  readonly title = 'TensorBoard';

  constructor(
    /** The log folder, absolute. */
    readonly dir: string,
    /** Where it came from ("tracking.tensorboard"), for messages; undefined for fer sync --to. */
    private readonly source?: string,
  ) {}

  get label(): string {
    return `TensorBoard ${shown(this.dir)}`;
  }

  get target(): string {
    return `${TARGET_PREFIX}${this.dir}`;
  }

  get syncTo(): string {
    return `${TARGET_PREFIX}${shown(this.dir)}`;
  }

  describe(): string {
    return `TensorBoard ${shown(this.dir)}${this.source ? ` (from ${this.source})` : ''}`;
  }

  /** A folder that cannot be made stops the run at once; a missing native backend only this sink. */
  async preflight(): Promise<void> {
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (error) {
      throw new FerError(`TensorBoard folder ${shown(this.dir)} cannot be created: ${(error as Error).message}`, 'choose another tracking.tensorboard folder, or make this one writable');
    }
    await this.writers();
  }

  open(journal: JournalRef): JournalSink {
    return new TensorboardDelivery(this, journal);
  }

  async close(): Promise<void> {}

  /** TensorFlow's summary writers, or why there are none (thrown once per call, said once by the tracker). */
  async writers(): Promise<{ open(logdir: string): ScalarWriter }> {
    const writers = await loadSummaryWriters();
    if (!writers.available) {
      throw new SinkBlockedError(
        `writing event files to ${shown(this.dir)} needs the native TensorFlow backend (${writers.reason})`,
        `\`fer setup native\` installs it`,
      );
    }
    return writers;
  }
}

interface TensorboardState {
  target: string;
  cursor: number;
  rejected: { seq: number; type: string; run: string; error: string }[];
}

class TensorboardDelivery implements JournalSink {
  private readonly stateFile: string;
  private readonly state: TensorboardState;
  /** Per log folder touched in this process: the (tag, step) pairs its event files hold. */
  private readonly present = new Map<string, Set<string>>();
  private readonly writers = new Map<string, ScalarWriter>();

  constructor(
    readonly sink: TensorboardSink,
    private readonly journal: JournalRef,
  ) {
    this.stateFile = deliveryStateFile(journal.journalFile, sink.target);
    this.state = readDeliveryState<TensorboardState>(this.stateFile, { target: sink.target, cursor: 0, rejected: [] });
  }

  pending(): number {
    return readJournal(this.journal.journalFile).filter((e) => e.seq > this.state.cursor).length;
  }

  /** Event files take every entry or none: nothing is held back. */
  held(): undefined {
    return undefined;
  }

  result(): { link?: string } {
    return { link: `tensorboard --logdir ${shown(this.sink.dir)}` };
  }

  async deliver(): Promise<DeliveryReport> {
    const entries = readJournal(this.journal.journalFile).filter((e) => e.seq > this.state.cursor);
    if (entries.length === 0) return { delivered: 0, pending: 0, rejected: [] };
    const writers = await this.sink.writers();
    const touched = new Set<ScalarWriter>();
    for (const entry of entries) {
      if (entry.type !== 'metrics') continue;
      const logdir = this.logdir(entry.run);
      const present = this.presentIn(logdir);
      for (const point of entry.points) {
        const key = `${point.key}\u0000${point.step}`;
        if (present.has(key)) continue;
        let writer = this.writers.get(logdir);
        if (!writer) this.writers.set(logdir, (writer = writers.open(logdir)));
        writer.scalar(point.key, point.value, point.step);
        touched.add(writer);
        present.add(key);
      }
    }
    for (const writer of touched) writer.flush();
    this.state.cursor = entries[entries.length - 1]!.seq;
    writeDeliveryState(this.stateFile, this.state);
    return { delivered: entries.length, pending: 0, rejected: [] };
  }

  /** `<dir>/<config name>/<run folder>/<run key>`: the run folder's place under runs/, then the run. */
  private logdir(run: string): string {
    const runDir = path.resolve(this.journal.runDir);
    return path.join(this.sink.dir, path.basename(path.dirname(runDir)), path.basename(runDir), ...run.split('/'));
  }

  private presentIn(logdir: string): Set<string> {
    let present = this.present.get(logdir);
    if (!present) {
      present = new Set(readScalars(logdir).map((p) => `${p.tag}\u0000${p.step}`));
      this.present.set(logdir, present);
    }
    return present;
  }
}

/** A folder as messages show it: relative to where fer runs when it is below it. */
function shown(dir: string): string {
  const relative = path.relative(process.cwd(), dir);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : dir;
}
