import { setTimeout as sleep } from 'node:timers/promises';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DiskFullError } from '../core/durable-file.js';
import { journalFile, JournalWriter, readJournal, type DatasetRecord, type JournalEntry, type MetricPoint, type ModelFile, type TrackEvent, type TrackStatus } from './journal.js';
import { SinkBlockedError, SinkUnavailableError, type JournalSink, type Sink } from './sink.js';

/**
 * What the runner talks to: it records events in the run's journal (deduplicated against what the
 * journal already holds, so a rerun or a resumed run adds only what is new) and delivers them to
 * each sink in the background, each at its own pace. Training never waits for a sink: if one is
 * down, events wait in the journal and its delivery retries with backoff until the run ends (and
 * `flush` gives it a last chance); anything left goes later with `fer sync` or the next run of the config.
 */
export interface TrackerLog {
  (message: string): void;
}

export interface TrackerOptions {
  /** The run folder and this process's journal in it (`main`, `shard-2-of-4`). */
  runDir: string;
  writer: string;
  experiment: string;
  sinks: readonly Sink[];
  log: TrackerLog;
}

/** How delivery to one sink ended. */
export interface SinkOutcome {
  kind: string;
  target: string;
  /** Entries the sink does not have yet. */
  pending: number;
  /** Why delivery stopped, or why some entries are held back, when it did or they are. */
  error?: string;
  /** Entries the sink cannot take from here (artifacts for a store fer cannot write): the rest was delivered. */
  held?: number;
  /** The sink's name for the parent run (MLflow's run id), and where to see the run. */
  parentRunId?: string;
  link?: string;
}

/**
 * What tracking came to, for `fer run --json`: every sink, plus the MLflow server's fields at the
 * top level as they were before there were other sinks.
 */
export interface TrackingOutcome {
  uri: string | null;
  experiment: string;
  parentRunId: string | null;
  /** Entries not yet in some sink (0 without sinks: the journal is the record). */
  pending: number;
  error?: string;
  sinks: SinkOutcome[];
}

/**
 * The key of what the journal holds for a run (a param, a tag, a metric point, ...). One spelling for
 * indexing the journal and for looking it up, so the two cannot drift apart; NUL cannot occur in a
 * run name or a metric key.
 */
function indexKey(run: string, ...parts: Array<string | number>): string {
  return [run, ...parts].join('\u0000');
}

/** One digest for a model's files: what they are called and what they hold. */
function modelDigest(files: readonly ModelFile[]): string {
  return createHash('sha256').update(files.map((f) => `${f.path}:${f.digest}`).join('\n')).digest('hex').slice(0, 16);
}

export class RunTracker {
  readonly runDir: string;
  readonly experiment: string;
  private readonly writer: JournalWriter;
  private readonly log: TrackerLog;
  private readonly pumps: SinkPump[];
  /** Indexes of what the journal already holds, for deduplication. */
  private readonly params = new Map<string, string>();
  private readonly tags = new Map<string, string>();
  private readonly notes = new Map<string, string>();
  private readonly points = new Map<string, number>();
  /** The highest step journaled per run and metric key. */
  private readonly lastSteps = new Map<string, number>();
  private readonly artifacts = new Map<string, string>();
  private readonly datasets = new Set<string>();
  /** Per run and model name: the digest of its files' digests. */
  private readonly models = new Map<string, string>();
  private readonly registrations = new Set<string>();
  private readonly runState = new Map<string, 'open' | TrackStatus>();

  constructor(options: TrackerOptions) {
    this.runDir = options.runDir;
    this.experiment = options.experiment;
    this.log = options.log;
    const file = journalFile(options.runDir, options.writer);
    for (const entry of readJournal(file)) this.index(entry);
    this.writer = new JournalWriter(file);
    this.pumps = options.sinks.map(
      (sink) =>
        new SinkPump(
          sink.open({
            runDir: options.runDir,
            journalFile: file,
            onRejected: (entry, error) => this.log(`${sink.title} refused journal entry ${entry.seq} (${entry.type} of ${entry.run}): ${error.message}`),
          }),
          options.log,
        ),
    );
  }

  get journalFile(): string {
    return this.writer.file;
  }

  /** Whether a sink could not be reached at the last try (its events wait in the journal). */
  get offline(): boolean {
    return this.pumps.some((pump) => pump.offline);
  }

  get sinks(): Sink[] {
    return this.pumps.map((p) => p.delivery.sink);
  }

  /**
   * Checks every sink before training, so wrong credentials stop the run at once, not hours later.
   * A sink that cannot be reached now, or cannot work here at all, only says so.
   */
  async preflight(): Promise<void> {
    for (const pump of this.pumps) {
      const sink = pump.delivery.sink;
      try {
        await sink.preflight(this.experiment);
      } catch (error) {
        if (error instanceof SinkUnavailableError) {
          this.log(`${sink.label} is not reachable now (${error.detail}); training goes on, events wait in ${path.relative(process.cwd(), this.journalFile)}`);
          pump.offline = true;
          continue;
        }
        if (error instanceof SinkBlockedError) {
          pump.block(error);
          continue;
        }
        throw error;
      }
    }
  }

  /** The line a run starts with: where it is tracked. */
  describe(): string {
    if (this.pumps.length === 0) return 'tracking: local only (runs/); set MLFLOW_TRACKING_URI or --tracking-uri to log to an MLflow server, or fer sync later';
    return `tracking: ${this.pumps.map((p) => p.delivery.sink.describe(this.experiment)).join('; ')}`;
  }

  isOpen(run: string): boolean {
    return this.runState.get(run) === 'open';
  }

  open(event: Omit<Extract<TrackEvent, { type: 'open' }>, 'type' | 'experiment'>): void {
    if (this.runState.get(event.run) === 'open') return;
    this.append({ type: 'open', ...event, experiment: this.experiment });
  }

  /** Params, whole; `file` names the artifact that also holds them (for sinks that must cut long values). */
  logParams(run: string, params: Record<string, string>, file?: string): void {
    const fresh = Object.fromEntries(Object.entries(params).filter(([k]) => !this.params.has(indexKey(run, k))));
    if (Object.keys(fresh).length > 0) this.append({ type: 'params', run, params: fresh, ...(file ? { file } : {}) });
  }

  setTags(run: string, tags: Record<string, string>): void {
    const fresh = Object.fromEntries(Object.entries(tags).filter(([k, v]) => this.tag(run, k) !== v));
    if (Object.keys(fresh).length > 0) this.append({ type: 'tags', run, tags: fresh });
  }

  /** The value of a tag the journal holds for a run (this process's or an earlier one's), if any. */
  tag(run: string, key: string): string | undefined {
    return this.tags.get(indexKey(run, key));
  }

  /** Sets the run's description (Markdown), if it changed. */
  setNote(run: string, text: string): void {
    if (this.notes.get(run) === text) return;
    this.append({ type: 'note', run, text });
  }

  /** Logs metric points; a point already journaled with the same key, step and value is skipped. */
  logMetrics(run: string, metrics: Record<string, number | undefined>, step: number, timestamp = Date.now()): void {
    const points: MetricPoint[] = [];
    for (const [key, value] of Object.entries(metrics)) {
      if (value === undefined || !Number.isFinite(value)) continue;
      if (this.points.get(indexKey(run, key, step)) === value) continue;
      points.push({ key, value, step, timestamp });
    }
    if (points.length > 0) this.append({ type: 'metrics', run, points });
  }

  /** The step after the last one journaled for a run's metric (0 for a new one): samples of a resumed run go on from there. */
  nextStep(run: string, key: string): number {
    const last = this.lastSteps.get(indexKey(run, key));
    return last === undefined ? 0 : last + 1;
  }

  hasStep(run: string, key: string, step: number): boolean {
    return this.points.has(indexKey(run, key, step));
  }

  /** Records a run-folder file as an artifact (again only if its content changed). */
  logArtifact(run: string, file: string, artifactPath: string): void {
    let digest: string;
    try {
      digest = createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);
    } catch {
      return;
    }
    if (this.artifacts.get(indexKey(run, artifactPath)) === digest) return;
    this.append({ type: 'artifact', run, file: path.relative(this.runDir, file), path: artifactPath, digest });
  }

  /**
   * Records a model of a run: run-folder files (absolute paths) and where each goes among the
   * model's artifacts. Logged again only when a file changed; a file that cannot be read leaves the
   * model unrecorded (it is not complete).
   */
  logModel(run: string, uid: string, name: string, files: readonly { file: string; path: string }[], tags: Record<string, string>): boolean {
    const entries: ModelFile[] = [];
    for (const f of files) {
      try {
        entries.push({ file: path.relative(this.runDir, f.file), path: f.path, digest: createHash('sha256').update(readFileSync(f.file)).digest('hex').slice(0, 16) });
      } catch {
        return false;
      }
    }
    if (this.models.get(indexKey(run, name)) === modelDigest(entries)) return true;
    this.append({ type: 'model', run, uid, experiment: this.experiment, name, files: entries, tags });
    return true;
  }

  /** Whether the journal holds a model of this name for the run. */
  hasModel(run: string, name: string): boolean {
    return this.models.has(indexKey(run, name));
  }

  /** Records the registration of a run's model as a new version of `registeredModel`, once. */
  register(event: Omit<Extract<TrackEvent, { type: 'register' }>, 'type' | 'experiment'>): boolean {
    if (this.registrations.has(indexKey(event.run, event.model, event.registeredModel))) return false;
    this.append({ type: 'register', ...event, experiment: this.experiment });
    return true;
  }

  logDataset(run: string, dataset: DatasetRecord): void {
    if (this.datasets.has(indexKey(run, dataset.name, dataset.digest))) return;
    this.append({ type: 'dataset', run, dataset });
  }

  close(run: string, status: TrackStatus, endTime = Date.now()): void {
    if (this.runState.get(run) !== 'open') return;
    this.append({ type: 'close', run, status, endTime });
  }

  /**
   * Waits for every sink to catch up, at most `timeoutMs` in all; returns what each still lacks. The
   * journal keeps it either way.
   */
  async flush(timeoutMs: number): Promise<SinkOutcome[]> {
    const deadline = Date.now() + timeoutMs;
    await Promise.all(this.pumps.map((pump) => pump.flush(deadline)));
    return this.pumps.map((pump) => pump.outcome());
  }

  /** Gives delivery its last chance (`timeoutMs`), closes the journal and the sinks, and says what is where. */
  async finish(timeoutMs: number): Promise<TrackingOutcome> {
    const sinks = await this.flush(timeoutMs);
    await this.shutdown();
    const mlflow = sinks.find((s) => s.kind === 'mlflow');
    const errors = sinks.flatMap((s) => (s.error ? [`${s.kind}: ${s.error}`] : []));
    return {
      uri: mlflow?.target ?? null,
      experiment: this.experiment,
      parentRunId: mlflow?.parentRunId ?? null,
      pending: Math.max(0, ...sinks.map((s) => s.pending)),
      ...(errors.length > 0 ? { error: errors.join('; ') } : {}),
      sinks,
    };
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.pumps.map((pump) => pump.stop()));
    this.writer.close();
    for (const pump of this.pumps) await pump.delivery.sink.close();
  }

  /** The journal could not be written (a full disk): events since are not recorded; the runner stops the run. */
  get diskFull(): DiskFullError | undefined {
    return this.full;
  }

  private full: DiskFullError | undefined;

  private append(event: TrackEvent): void {
    let entry: JournalEntry;
    try {
      entry = this.writer.append(event);
    } catch (error) {
      // Training must not die in an event handler: the runner reads this, stops and says it.
      if (!(error instanceof DiskFullError)) throw error;
      this.full ??= error;
      return;
    }
    this.index(entry);
    for (const pump of this.pumps) pump.kick();
  }

  private index(entry: JournalEntry): void {
    switch (entry.type) {
      case 'open':
        this.runState.set(entry.run, 'open');
        break;
      case 'close':
        this.runState.set(entry.run, entry.status);
        break;
      case 'params':
        for (const [k, v] of Object.entries(entry.params)) this.params.set(indexKey(entry.run, k), v);
        break;
      case 'tags':
        for (const [k, v] of Object.entries(entry.tags)) this.tags.set(indexKey(entry.run, k), v);
        break;
      case 'note':
        this.notes.set(entry.run, entry.text);
        break;
      case 'metrics':
        for (const p of entry.points) {
          this.points.set(indexKey(entry.run, p.key, p.step), p.value);
          const series = indexKey(entry.run, p.key);
          if (p.step > (this.lastSteps.get(series) ?? -1)) this.lastSteps.set(series, p.step);
        }
        break;
      case 'artifact':
        this.artifacts.set(indexKey(entry.run, entry.path), entry.digest);
        break;
      case 'dataset':
        this.datasets.add(indexKey(entry.run, entry.dataset.name, entry.dataset.digest));
        break;
      case 'model':
        this.models.set(indexKey(entry.run, entry.name), modelDigest(entry.files));
        break;
      case 'register':
        this.registrations.add(indexKey(entry.run, entry.model, entry.registeredModel));
        break;
    }
  }
}

/**
 * The background delivery of the journal to one sink: started by each new event, retried with
 * backoff (1 s doubling to 15 s) while the sink is away, stopped for good by an error someone must
 * act on, which it says once.
 */
class SinkPump {
  offline = false;
  private pumping: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private blocked: string | undefined;
  /** Why entries are held, once said. */
  private heldSaid: string | undefined;
  private stopped = false;

  constructor(
    readonly delivery: JournalSink,
    private readonly log: TrackerLog,
  ) {}

  block(error: Error): void {
    this.blocked = describe(error);
    this.log(`${this.delivery.sink.title} delivery stopped: ${this.blocked}; events stay in the journal for fer sync`);
  }

  /** Starts the delivery loop if it is not running. */
  kick(): void {
    if (this.blocked || this.stopped) return;
    // While the sink is away, new events wait for the backoff rather than hammer it.
    if (this.wake) {
      if (!this.offline) this.wake();
      return;
    }
    if (this.pumping) return;
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
    });
  }

  /** Entries still to deliver: held ones wait for a later session, not for this one. */
  private waiting(): number {
    return this.delivery.pending() - (this.delivery.held()?.entries ?? 0);
  }

  /** Says why entries are held, once for each reason. */
  private sayHeld(): void {
    const held = this.delivery.held();
    if (!held) return;
    const why = describe(held.error);
    if (why === this.heldSaid) return;
    this.heldSaid = why;
    this.log(`${this.delivery.sink.title}: artifacts held back: ${why}; metrics, params and statuses go on, the artifacts stay in the journal for fer sync`);
  }

  async flush(deadline: number): Promise<void> {
    while (Date.now() < deadline && !this.blocked) {
      if (this.waiting() === 0) break;
      this.kick();
      await Promise.race([this.pumping, sleep(Math.max(0, Math.min(1000, deadline - Date.now())))]);
    }
  }

  outcome(): SinkOutcome {
    const sink = this.delivery.sink;
    const result = this.delivery.result();
    const held = this.delivery.held();
    const error = this.blocked ?? (held ? describe(held.error) : undefined);
    return {
      kind: sink.kind,
      target: sink.target,
      pending: this.delivery.pending(),
      ...(error ? { error } : {}),
      ...(held ? { held: held.entries } : {}),
      ...(result.parentRunId ? { parentRunId: result.parentRunId } : {}),
      ...(result.link ? { link: result.link } : {}),
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.pumping;
  }

  private async pump(): Promise<void> {
    const sink = this.delivery.sink;
    let delay = 1000;
    while (!this.stopped && !this.blocked) {
      try {
        await this.delivery.deliver();
        this.sayHeld();
        if (this.offline) {
          this.log(`${sink.label} is back: journal delivered`);
          this.offline = false;
        }
        delay = 1000;
        if (this.waiting() === 0) return;
      } catch (error) {
        if (error instanceof SinkUnavailableError) {
          if (!this.offline) this.log(`${error.message}; training goes on, retrying in the background (events are kept in the run folder)`);
          this.offline = true;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, delay);
            this.wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.wake = undefined;
          delay = Math.min(15_000, delay * 2);
          continue;
        }
        this.block(error instanceof Error ? error : new Error(String(error)));
        return;
      }
    }
  }
}

/** An error as a person reads it: the message, and what to do in parentheses. */
function describe(error: Error): string {
  const hint = (error as { hint?: string }).hint;
  return `${error.message}${hint ? ` (${hint})` : ''}`;
}
