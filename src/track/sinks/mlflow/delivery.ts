import { existsSync } from 'node:fs';
import path from 'node:path';
import { PARENT_RUN, readJournal, type JournalEntry, type MetricPoint, type TrackEvent } from '../../journal.js';
import { deliveryStateFile as stateFileFor, readDeliveryState as readState, writeDeliveryState, type DeliveryReport, type HeldEntries, type JournalRef, type JournalSink, type Sink } from '../../sink.js';
import { artifactStoreOf, ArtifactsHeldError, foreignRoot, putArtifact } from './artifact-store.js';
import { MlflowApiError, MlflowUnavailableError, type LoggedModel, type MlflowClient } from './client.js';
import { datasetInput, EXPERIMENT_TAGS, fitTags, keyValues, NOTE_TAG, openTags } from './layout.js';
import { fitParams } from './params.js';

/**
 * Delivers a journal to an MLflow server, exactly once as MLflow shows it.
 *
 * Everything MLflow does is idempotent except two things: creating a run, and logging a metric
 * point (points are appended, never overwritten). So:
 * - a run is created only after searching for it by its identity tags (fer.run_uid + fer.key), and
 *   if two writers raced to create it, the earliest wins and the other is deleted;
 * - metric points are sent blind only when the previous request is known to have been answered;
 *   after a restart, or a failure that may have reached the server (a timeout, a 5xx, a reset),
 *   the next batch is first compared with the server's history of those keys and only missing
 *   points are sent;
 * - the cursor (the last journal entry the server acknowledged) is written after every answer.
 * Params are write-once with the same value, tags overwrite, artifacts are PUT to fixed paths,
 * datasets are deduplicated by the server, statuses are set: all safe to resend.
 *
 * Nothing waits behind an artifact: an artifact (or a model, or the registration of that model)
 * whose artifact root fer cannot write from here (artifact-store.ts) is held, its sequence number
 * kept in the state's `held` list, and the cursor moves on; held entries are tried again at the
 * start of each session (a `fer run`, a `fer sync`), in journal order, and leave the list once written.
 */
export interface DeliveryState {
  /** The server, without credentials. */
  uri: string;
  experimentId?: string;
  /** Local run key -> MLflow run id. */
  runs: Record<string, string>;
  artifactUris: Record<string, string>;
  /** The last journal entry the server has. */
  cursor: number;
  /** Entries the server refused (a 4xx): kept here with its message so nothing disappears silently. */
  rejected: { seq: number; type: string; run: string; error: string }[];
  /**
   * `<run key>/<model name>` -> the logged model's id, or `artifacts:<path>` where the server has no
   * logged models (before MLflow 3) and the model went among the run's artifacts.
   */
  models?: Record<string, string>;
  /** Entries after which the cursor moved although the server does not hold them: artifacts fer cannot write there yet. */
  held?: number[];
}

export { EXPERIMENT_TAGS };
export type { DeliveryReport };

/** The delivery-state file of one journal for one server. */
export function deliveryStateFile(journalFile: string, uri: string): string {
  return stateFileFor(journalFile, uri);
}

export function readDeliveryState(file: string, uri: string): DeliveryState {
  return readState<DeliveryState>(file, { uri, runs: {}, artifactUris: {}, cursor: 0, rejected: [] });
}

export interface DeliveryOptions extends JournalRef {
  client: MlflowClient;
  /** The sink this delivery belongs to (absent when a test drives a delivery by itself). */
  sink?: Sink;
}

/** Errors that stop delivery until someone acts (credentials, permissions, a server without artifact proxying). */
export function isBlockingError(error: unknown): boolean {
  return error instanceof MlflowApiError && (error.status === 401 || error.status === 403 || error.errorCode === 'ARTIFACTS_NOT_PROXIED' || error.errorCode === 'ENDPOINT_NOT_FOUND' || error.status === 0);
}

export class JournalDelivery implements JournalSink {
  private readonly stateFile: string;
  private state: DeliveryState;
  /** Whether the last metric request may have been applied without our knowing: true at start. */
  private uncertain = true;
  /** Runs found already on the server in this session: their metrics are checked against it. */
  private readonly adopted = new Set<string>();
  private readonly present = new Map<string, Set<string>>();
  private readonly loadedKeys = new Map<string, Set<string>>();
  /** Why the held entries could not be written, as this session last found. */
  private heldError: ArtifactsHeldError | undefined;
  private triedHeld = false;

  constructor(private readonly options: DeliveryOptions) {
    this.stateFile = deliveryStateFile(options.journalFile, options.client.uri);
    this.state = readDeliveryState(this.stateFile, options.client.uri);
  }

  get sink(): Sink {
    if (!this.options.sink) throw new Error('this delivery was made without its sink');
    return this.options.sink;
  }

  get runIds(): Readonly<Record<string, string>> {
    return this.state.runs;
  }

  get experimentId(): string | undefined {
    return this.state.experimentId;
  }

  result(): { parentRunId?: string; link?: string } {
    const parent = this.state.runs[PARENT_RUN];
    if (!parent) return {};
    return { parentRunId: parent, link: `${this.options.client.uri}/#/experiments/${this.state.experimentId ?? ''}/runs/${parent}` };
  }

  pending(): number {
    return readJournal(this.options.journalFile).filter((e) => e.seq > this.state.cursor).length + (this.state.held?.length ?? 0);
  }

  held(): HeldEntries | undefined {
    const count = this.state.held?.length ?? 0;
    if (count === 0) return undefined;
    return { entries: count, error: this.heldError ?? new ArtifactsHeldError(`${count} artifact entries of this journal are not on MLflow server ${this.options.client.uri} yet`, 'fer sync tries them again', '') };
  }

  /**
   * Sends every entry after the cursor. Throws MlflowUnavailableError when the server cannot be
   * reached (the cursor stays at the last acknowledged entry), and blocking errors as they are.
   */
  async deliver(): Promise<DeliveryReport> {
    const journal = readJournal(this.options.journalFile);
    const entries = journal.filter((e) => e.seq > this.state.cursor);
    const report: DeliveryReport = { delivered: 0, pending: entries.length + (this.state.held?.length ?? 0), rejected: [] };
    if (!this.triedHeld && (this.state.held?.length ?? 0) > 0) await this.deliverHeld(journal, report);
    this.triedHeld = true;
    for (const group of groupEntries(entries)) {
      const last = group[group.length - 1]!;
      let held = false;
      try {
        if (this.waitsForHeld(group[0]!, journal)) throw this.heldError ?? new ArtifactsHeldError('the model it registers is held', '', '');
        await this.apply(group);
      } catch (error) {
        if (this.failed(error, group, report) === 'held') {
          // The artifact store cannot take it from here: keep it, and let what follows through.
          (this.state.held ??= []).push(...group.map((e) => e.seq));
          held = true;
        }
      }
      this.uncertain = false;
      this.state.cursor = last.seq;
      writeDeliveryState(this.stateFile, this.state);
      if (!held) report.delivered += group.length;
      report.pending -= held ? 0 : group.length;
    }
    return report;
  }

  /**
   * What a failed apply means: an outage stops delivery (thrown, the entries stay pending); an
   * artifact store fer cannot write holds them; a refusal by the server is recorded and passed over;
   * anything else is thrown.
   */
  private failed(error: unknown, group: JournalEntry[], report: DeliveryReport): 'held' | 'rejected' {
    if (error instanceof MlflowUnavailableError) {
      this.uncertain = true;
      throw error;
    }
    if (error instanceof ArtifactsHeldError) {
      this.heldError = error;
      return 'held';
    }
    if (!(error instanceof MlflowApiError) || isBlockingError(error)) throw error;
    this.reject(group, error, report);
    return 'rejected';
  }

  /** The server said no to these entries: keep the reason, tell the user, go on with the rest. */
  private reject(group: JournalEntry[], error: MlflowApiError, report: DeliveryReport): void {
    for (const entry of group) {
      this.state.rejected.push({ seq: entry.seq, type: entry.type, run: entry.run, error: error.message });
      report.rejected.push({ seq: entry.seq, error: error.message });
      this.options.onRejected?.(entry, error);
    }
  }

  /** Tries the held entries again, in journal order; each written one leaves the list. */
  private async deliverHeld(journal: JournalEntry[], report: DeliveryReport): Promise<void> {
    const bySeq = new Map(journal.map((e) => [e.seq, e]));
    this.heldError = undefined;
    for (const seq of [...(this.state.held ?? [])].sort((a, b) => a - b)) {
      const entry = bySeq.get(seq);
      let settled = true;
      try {
        if (entry && !this.waitsForHeld(entry, journal, seq)) await this.apply([entry]);
        else if (entry) settled = false;
      } catch (error) {
        if (this.failed(error, [entry!], report) === 'held') settled = false;
      }
      if (!settled) continue;
      this.state.held = (this.state.held ?? []).filter((s) => s !== seq);
      writeDeliveryState(this.stateFile, this.state);
      report.delivered++;
      report.pending--;
    }
    if (this.state.held?.length === 0) delete this.state.held;
  }

  /** A registration of a model whose files are held waits with them (its version would point at nothing). */
  private waitsForHeld(entry: JournalEntry, journal: JournalEntry[], before = Infinity): boolean {
    if (entry.type !== 'register' || !this.state.held?.length) return false;
    const held = new Set(this.state.held.filter((s) => s < before));
    return journal.some((e) => held.has(e.seq) && e.type === 'model' && e.run === entry.run && e.name === entry.model);
  }

  private async apply(group: JournalEntry[]): Promise<void> {
    const first = group[0]!;
    if (first.type === 'metrics') {
      const runId = this.runId(first.run);
      let points = group.flatMap((e) => (e.type === 'metrics' ? e.points : []));
      if (this.uncertain || this.adopted.has(first.run)) points = await this.missingPoints(first.run, runId, points, this.uncertain);
      if (points.length > 0) await this.options.client.logBatch(runId, { metrics: points });
      const known = this.present.get(first.run);
      if (known) for (const p of points) known.add(pointKey(p));
      return;
    }
    await this.applyOne(first);
  }

  private async applyOne(event: TrackEvent): Promise<void> {
    const client = this.options.client;
    switch (event.type) {
      case 'open':
        await this.openRun(event);
        return;
      case 'params':
        await client.logBatch(this.runId(event.run), { params: keyValues(fitParams(event.params, event.file).params) });
        return;
      case 'tags':
        await client.logBatch(this.runId(event.run), { tags: keyValues(fitTags(event.tags)) });
        return;
      case 'note':
        await client.logBatch(this.runId(event.run), { tags: [{ key: NOTE_TAG, value: event.text }] });
        return;
      case 'metrics':
        return;
      case 'artifact': {
        const file = path.join(this.options.runDir, event.file);
        if (!existsSync(file)) throw new MlflowApiError(`artifact ${event.path}: ${event.file} is no longer in the run folder`, 400, 'ARTIFACT_MISSING');
        await putArtifact(client, await this.artifactUri(event.run), event.path, file);
        return;
      }
      case 'dataset':
        await client.logInputs(this.runId(event.run), [datasetInput(event.dataset)]);
        return;
      case 'model':
        await this.logModel(event);
        return;
      case 'register':
        await this.register(event);
        return;
      case 'close':
        await client.updateRun(this.runId(event.run), { status: event.status, endTime: event.endTime });
        return;
    }
  }

  /**
   * A model as MLflow 3's logged model: found again by its identity tags or created, its files
   * uploaded to its own artifact location (PUTs to fixed paths: safe to repeat), marked ready and
   * linked to its run as an output. A server without logged models gets the files among the run's
   * artifacts under the model's name, the layout MLflow 2 used.
   */
  private async logModel(event: Extract<TrackEvent, { type: 'model' }>): Promise<void> {
    const client = this.options.client;
    const runId = await this.resolveRun(event.run, event.uid, event.experiment);
    // A logged model's root is under its experiment's, as the run's is: one the server does not
    // proxy and fer cannot write holds the model before anything of it is created.
    const runRoot = await this.artifactUri(event.run);
    if (artifactStoreOf(runRoot).kind === 'foreign') throw foreignRoot(client.uri, runRoot);
    const models = (this.state.models ??= {});
    const key = `${event.run}/${event.name}`;
    const tags = { ...event.tags, 'fer.run_uid': event.uid, 'fer.model_key': key };
    for (const f of event.files) {
      if (!existsSync(path.join(this.options.runDir, f.file))) throw new MlflowApiError(`model ${event.name}: ${f.file} is no longer in the run folder`, 400, 'ARTIFACT_MISSING');
    }
    let model: LoggedModel | undefined;
    try {
      model = await this.findLoggedModel(tags);
      if (!model) {
        model = await client.createLoggedModel({ experimentId: this.state.experimentId!, name: event.name, sourceRunId: runId, modelType: 'fer', tags: keyValues(tags) });
        // Two writers may have created it at once: all of them go on with the one whose id sorts first.
        const found = await this.findLoggedModel(tags);
        if (found) model = found;
      }
    } catch (error) {
      if (!(error instanceof MlflowApiError && error.errorCode === 'ENDPOINT_NOT_FOUND')) throw error;
      model = undefined;
    }
    if (!model) {
      const root = await this.artifactUri(event.run);
      for (const f of event.files) await putArtifact(client, root, `${event.name}/${f.path}`, path.join(this.options.runDir, f.file));
      models[key] = `artifacts:${event.name}`;
      return;
    }
    for (const f of event.files) await putArtifact(client, model.info.artifact_uri, f.path, path.join(this.options.runDir, f.file));
    if (model.info.status !== 'LOGGED_MODEL_READY') await client.finalizeLoggedModel(model.info.model_id, 'LOGGED_MODEL_READY');
    if (models[key] !== model.info.model_id) {
      // The server refuses a link it has (a replay after the delivery state was lost): look first.
      const outputs = (await client.getRun(runId)).outputs?.model_outputs ?? [];
      if (!outputs.some((o) => o.model_id === model.info.model_id)) await client.logOutputs(runId, [{ modelId: model.info.model_id, step: 0 }]);
    }
    models[key] = model.info.model_id;
  }

  private async findLoggedModel(tags: Record<string, string>): Promise<LoggedModel | undefined> {
    const uid = tags['fer.run_uid'];
    const modelKey = tags['fer.model_key'];
    if (!uid || !modelKey) return undefined;
    const filter = `tags.\`fer.run_uid\` = '${quote(uid)}' AND tags.\`fer.model_key\` = '${quote(modelKey)}'`;
    const found = await this.options.client.searchLoggedModels([this.state.experimentId!], filter);
    return found.sort((a, b) => a.info.model_id.localeCompare(b.info.model_id))[0];
  }

  /**
   * A new version of a registered model, with the run's model as its source (the logged model, or
   * the run's artifacts on servers without them). Found again by run and model before it is
   * created, so a replayed journal registers once.
   */
  private async register(event: Extract<TrackEvent, { type: 'register' }>): Promise<void> {
    const client = this.options.client;
    const runId = await this.resolveRun(event.run, event.uid, event.experiment);
    const modelKey = `${event.run}/${event.model}`;
    let source: string;
    let modelId: string | undefined;
    let model: LoggedModel | undefined;
    try {
      model = await this.findLoggedModel({ 'fer.run_uid': event.uid, 'fer.model_key': modelKey });
    } catch (error) {
      if (!(error instanceof MlflowApiError && error.errorCode === 'ENDPOINT_NOT_FOUND')) throw error;
    }
    if (model) {
      source = `models:/${model.info.model_id}`;
      modelId = model.info.model_id;
    } else {
      const run = await client.getRun(runId);
      source = `${run.info.artifact_uri ?? `runs:/${runId}`}/${event.model}`;
    }
    await client.ensureRegisteredModel(event.registeredModel);
    const versions = await client.searchModelVersions(`name = '${quote(event.registeredModel)}' AND run_id = '${quote(runId)}'`);
    if (versions.some((v) => v.tags?.some((t) => t.key === 'fer.model_key' && t.value === modelKey))) return;
    await client.createModelVersion({ name: event.registeredModel, source, runId, ...(modelId ? { modelId } : {}), tags: keyValues({ ...event.tags, 'fer.model_key': modelKey }) });
  }

  /** The MLflow run of a local run key: delivered by this journal, or found by its identity tags (a journal of `fer register`). */
  private async resolveRun(key: string, uid: string, experiment: string): Promise<string> {
    const known = this.state.runs[key];
    if (known) return known;
    this.state.experimentId ??= await this.options.client.ensureExperiment(this.options.experiment ?? experiment, EXPERIMENT_TAGS);
    const filter = `tags.\`fer.run_uid\` = '${quote(uid)}' and tags.\`fer.key\` = '${quote(key)}'`;
    const found = (await this.options.client.searchRuns([this.state.experimentId!], filter)).sort((a, b) => Number(a.info.start_time ?? 0) - Number(b.info.start_time ?? 0) || a.info.run_id.localeCompare(b.info.run_id));
    if (!found[0]) throw new MlflowUnavailableError(`run ${key} of this run folder is not on the MLflow server yet (its journal is not delivered): it is registered once it is`, false);
    this.state.runs[key] = found[0].info.run_id;
    return found[0].info.run_id;
  }

  private runId(key: string): string {
    const id = this.state.runs[key];
    if (!id) throw new MlflowApiError(`journal: an event for run ${key} comes before that run was opened`, 400, 'JOURNAL_ORDER');
    return id;
  }

  private async artifactUri(key: string): Promise<string> {
    const known = this.state.artifactUris[key];
    if (known) return known;
    const run = await this.options.client.getRun(this.runId(key));
    this.state.artifactUris[key] = run.info.artifact_uri ?? '';
    return this.state.artifactUris[key]!;
  }

  /** Finds the run by its identity tags, or creates it; reopens it if it had ended. */
  private async openRun(event: Extract<TrackEvent, { type: 'open' }>): Promise<void> {
    const client = this.options.client;
    const experimentId = (this.state.experimentId ??= await client.ensureExperiment(this.options.experiment ?? event.experiment, EXPERIMENT_TAGS));
    const uid = event.uid ?? '';
    const filter = `tags.\`fer.run_uid\` = '${uid.replace(/'/g, '')}' and tags.\`fer.key\` = '${event.run.replace(/'/g, '')}'`;
    const tags = openTags(event, event.parent ? this.runId(event.parent) : undefined);
    // Writers share the start time of a run, so ties are broken by run id: every writer that sees
    // the same runs keeps the same one.
    const search = async () => (await client.searchRuns([experimentId], filter)).sort((a, b) => Number(a.info.start_time ?? 0) - Number(b.info.start_time ?? 0) || a.info.run_id.localeCompare(b.info.run_id));
    let found = await search();
    if (found.length === 0) {
      await client.createRun({ experimentId, runName: event.name, startTime: event.startTime, tags: keyValues(tags) });
      // Two writers (shards) may have created it at the same moment: keep one, delete the rest.
      found = await search();
      for (const extra of found.slice(1)) await client.deleteRun(extra.info.run_id);
    } else {
      this.adopted.add(event.run);
      if (found[0]!.info.status !== 'RUNNING') await client.updateRun(found[0]!.info.run_id, { status: 'RUNNING' });
      await client.logBatch(found[0]!.info.run_id, { tags: keyValues(tags) });
    }
    const run = found[0]!;
    this.state.runs[event.run] = run.info.run_id;
    if (run.info.artifact_uri) this.state.artifactUris[event.run] = run.info.artifact_uri;
    if (event.run === PARENT_RUN) this.state.experimentId = experimentId;
  }

  /**
   * The points the server does not have yet (same key, step and timestamp). For a run found on the
   * server rather than created here (a replay, a resume), the history of each key is fetched once
   * and kept up to date; after an uncertain failure it is fetched again.
   */
  private async missingPoints(runKey: string, runId: string, points: MetricPoint[], refresh: boolean): Promise<MetricPoint[]> {
    let known = this.present.get(runKey);
    if (!known) this.present.set(runKey, (known = new Set()));
    let loaded = this.loadedKeys.get(runKey);
    if (!loaded) this.loadedKeys.set(runKey, (loaded = new Set()));
    for (const key of new Set(points.map((p) => p.key))) {
      if (loaded.has(key) && !refresh) continue;
      for (const p of await this.options.client.metricHistory(runId, key)) known.add(pointKey(p));
      loaded.add(key);
    }
    return points.filter((p) => !known.has(pointKey(p)));
  }
}

/** A value inside a single-quoted MLflow filter string. */
function quote(value: string): string {
  return value.replace(/'/g, '');
}

function pointKey(p: MetricPoint): string {
  return `${p.key}\u0000${p.step}\u0000${p.timestamp}`;
}

/** Consecutive metric entries of one run go in one request (up to the log-batch limit); others alone. */
function groupEntries(entries: JournalEntry[]): JournalEntry[][] {
  const groups: JournalEntry[][] = [];
  let points = 0;
  for (const entry of entries) {
    const current = groups[groups.length - 1];
    const head = current?.[0];
    if (entry.type === 'metrics' && head?.type === 'metrics' && head.run === entry.run && points + entry.points.length <= 1000) {
      current!.push(entry);
      points += entry.points.length;
    } else {
      groups.push([entry]);
      points = entry.type === 'metrics' ? entry.points.length : 0;
    }
  }
  return groups;
}
