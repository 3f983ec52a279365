import { setTimeout as sleep } from 'node:timers/promises';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EXPERIMENT_TAGS, isBlockingError, JournalDelivery } from './delivery.js';
import { JournalWriter, readJournal, trackingDir, type JournalEntry, type TrackEvent, type TrackStatus } from './journal.js';
import { MlflowApiError, MlflowClient, MlflowUnavailableError, type MetricPoint } from './mlflow-client.js';
import type { TrackingSettings } from './settings.js';

/**
 * What the runner talks to: it records events in the run's journal (deduplicated against what the
 * journal already holds, so a rerun or a resumed run adds only what is new) and, when a server is
 * configured, delivers them in the background. Training never waits for the server: if it is down,
 * events wait in the journal and delivery retries with backoff until the run ends (and `flush`
 * gives it a last chance); anything left goes later with `fer sync` or the next run of the config.
 */
export interface TrackerLog {
  (message: string): void;
}

export interface FlushResult {
  /** Entries the server does not have yet (0 without a server: the journal is the record). */
  pending: number;
  /** Why delivery stopped, when it did. */
  error?: string;
}

/**
 * The key of what the journal holds for a run (a param, a tag, a metric point, ...). One spelling for
 * indexing the journal and for looking it up, so the two cannot drift apart; NUL cannot occur in a
 * run name or an MLflow key.
 */
function indexKey(run: string, ...parts: Array<string | number>): string {
  return [run, ...parts].join('\u0000');
}

export class RunTracker {
  private readonly writer: JournalWriter;
  private readonly delivery: JournalDelivery | undefined;
  private readonly client: MlflowClient | undefined;
  /** Indexes of what the journal already holds, for deduplication. */
  private readonly params = new Map<string, string>();
  private readonly tags = new Map<string, string>();
  private readonly points = new Map<string, number>();
  private readonly artifacts = new Map<string, string>();
  private readonly datasets = new Set<string>();
  private readonly runState = new Map<string, 'open' | TrackStatus>();
  private pumping: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private blocked: string | undefined;
  private announcedOffline = false;
  private closed = false;

  constructor(
    readonly runDir: string,
    writerName: string,
    readonly settings: TrackingSettings,
    private readonly log: TrackerLog,
  ) {
    const file = path.join(trackingDir(runDir), `journal-${writerName}.jsonl`);
    for (const entry of readJournal(file)) this.index(entry);
    this.writer = new JournalWriter(file);
    if (settings.uri) {
      this.client = new MlflowClient({ uri: settings.uri, credentials: settings.credentials });
      this.delivery = new JournalDelivery({
        runDir,
        journalFile: file,
        client: this.client,
        onRejected: (entry, error) => this.log(`MLflow refused journal entry ${entry.seq} (${entry.type} of ${entry.run}): ${error.message}`),
      });
    }
  }

  get journalFile(): string {
    return this.writer.file;
  }

  get serverRunIds(): Readonly<Record<string, string>> {
    return this.delivery?.runIds ?? {};
  }

  get experimentId(): string | undefined {
    return this.delivery?.experimentId;
  }

  /** Checks the server before training starts, so wrong credentials stop the run at once, not hours later. */
  async preflight(experiment: string): Promise<void> {
    if (!this.client) return;
    try {
      await this.client.ensureExperiment(experiment, EXPERIMENT_TAGS);
    } catch (error) {
      if (error instanceof MlflowUnavailableError) {
        this.log(`MLflow ${this.client.uri} is not reachable now (${error.message.replace(/^MLflow server \S+ unavailable /, '')}); training goes on, events wait in ${path.relative(process.cwd(), this.journalFile)}`);
        this.announcedOffline = true;
        return;
      }
      throw error;
    }
  }

  isOpen(run: string): boolean {
    return this.runState.get(run) === 'open';
  }

  open(event: Omit<Extract<TrackEvent, { type: 'open' }>, 'type'>): void {
    if (this.runState.get(event.run) === 'open') return;
    this.append({ type: 'open', ...event });
  }

  logParams(run: string, params: Record<string, string>): void {
    const fresh = Object.fromEntries(Object.entries(params).filter(([k]) => !this.params.has(indexKey(run, k))));
    if (Object.keys(fresh).length > 0) this.append({ type: 'params', run, params: fresh });
  }

  setTags(run: string, tags: Record<string, string>): void {
    const fresh = Object.fromEntries(Object.entries(tags).filter(([k, v]) => this.tag(run, k) !== v));
    if (Object.keys(fresh).length > 0) this.append({ type: 'tags', run, tags: fresh });
  }

  /** The value of a tag the journal holds for a run (this process's or an earlier one's), if any. */
  tag(run: string, key: string): string | undefined {
    return this.tags.get(indexKey(run, key));
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

  logDataset(run: string, input: Extract<TrackEvent, { type: 'dataset' }>['input']): void {
    if (this.datasets.has(indexKey(run, input.dataset.name, input.dataset.digest))) return;
    this.append({ type: 'dataset', run, input });
  }

  close(run: string, status: TrackStatus, endTime = Date.now()): void {
    if (this.runState.get(run) !== 'open') return;
    this.append({ type: 'close', run, status, endTime });
  }

  /**
   * Waits for delivery to catch up, at most `timeoutMs`; returns what is still pending. The journal
   * keeps it either way.
   */
  async flush(timeoutMs: number): Promise<FlushResult> {
    if (!this.delivery) return { pending: 0 };
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.blocked) {
      if (this.delivery.pending() === 0) break;
      this.kick();
      await Promise.race([this.pumping, sleep(Math.max(0, Math.min(1000, deadline - Date.now())))]);
    }
    return { pending: this.delivery.pending(), ...(this.blocked ? { error: this.blocked } : {}) };
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    this.wake?.();
    await this.pumping;
    this.writer.close();
    await this.client?.close();
  }

  private append(event: TrackEvent): void {
    const entry = this.writer.append(event);
    this.index(entry);
    this.kick();
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
      case 'metrics':
        for (const p of entry.points) this.points.set(indexKey(entry.run, p.key, p.step), p.value);
        break;
      case 'artifact':
        this.artifacts.set(indexKey(entry.run, entry.path), entry.digest);
        break;
      case 'dataset':
        this.datasets.add(indexKey(entry.run, entry.input.dataset.name, entry.input.dataset.digest));
        break;
    }
  }

  /** Starts the background delivery loop if it is not running. */
  private kick(): void {
    if (!this.delivery || this.blocked || this.closed) return;
    // While the server is away, new events wait for the backoff rather than hammer it.
    if (this.wake) {
      if (!this.announcedOffline) this.wake();
      return;
    }
    if (this.pumping) return;
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
    });
  }

  private async pump(): Promise<void> {
    const delivery = this.delivery!;
    let delay = 1000;
    while (!this.closed && !this.blocked) {
      try {
        await delivery.deliver();
        if (this.announcedOffline) {
          this.log(`MLflow ${this.client!.uri} is back: journal delivered`);
          this.announcedOffline = false;
        }
        delay = 1000;
        if (delivery.pending() === 0) return;
      } catch (error) {
        if (error instanceof MlflowUnavailableError) {
          if (!this.announcedOffline) this.log(`${error.message}; training goes on, retrying in the background (events are kept in the run folder)`);
          this.announcedOffline = true;
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
        const message = error instanceof Error ? error.message : String(error);
        const hint = error instanceof MlflowApiError && isBlockingError(error) && error.hint ? ` (${error.hint})` : '';
        this.blocked = `${message}${hint}`;
        this.log(`MLflow delivery stopped: ${this.blocked}; events stay in the journal for fer sync`);
        return;
      }
    }
  }
}
