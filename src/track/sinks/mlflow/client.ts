import { setTimeout as sleep } from 'node:timers/promises';
import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { EnvHttpProxyAgent, errors as undiciErrors, request, type Dispatcher } from 'undici';
import { redactUri } from '../../settings.js';
import type { TrackingCredentials } from './settings.js';
import { SinkUnavailableError } from '../../sink.js';
import { FerError } from '../../../core/errors.js';

/**
 * A typed client for MLflow's REST API (/api/2.0/mlflow and the artifact proxy), on undici.
 * One keep-alive connection pool per server; requests that fail on the network, time out, or get
 * 429/5xx are retried with exponential backoff and full jitter; 4xx answers are not (the request
 * is wrong, sending it again will not help) and surface with the server's own message.
 */

export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface KeyValue {
  key: string;
  value: string;
}

export interface MetricPoint {
  key: string;
  value: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  step: number;
}

export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage?: string;
  tags?: KeyValue[];
}

export interface RunInfo {
  run_id: string;
  run_name?: string;
  experiment_id: string;
  status: RunStatus;
  start_time?: number;
  end_time?: number;
  artifact_uri?: string;
  lifecycle_stage?: string;
}

export interface DatasetInput {
  tags?: KeyValue[];
  dataset: { name: string; digest: string; source_type: string; source: string; schema?: string; profile?: string };
}

export interface Run {
  info: RunInfo;
  data: { metrics?: MetricPoint[]; params?: KeyValue[]; tags?: KeyValue[] };
  inputs?: { dataset_inputs?: DatasetInput[] };
  /** MLflow 3: the logged models the run produced. */
  outputs?: { model_outputs?: { model_id: string; step?: number | string }[] };
}

export interface ArtifactEntry {
  path: string;
  is_dir?: boolean;
  file_size?: number | string;
}

/** MLflow 3's logged model: a model with its own id, artifacts and status, linked to the run that made it. */
export interface LoggedModel {
  info: { model_id: string; experiment_id: string; name: string; artifact_uri: string; status: string; source_run_id?: string; tags?: KeyValue[] };
  data?: { params?: KeyValue[]; metrics?: MetricPoint[] };
}

export interface ModelVersion {
  name: string;
  version: string;
  source: string;
  run_id?: string;
  model_id?: string;
  status?: string;
  tags?: KeyValue[];
}

/** Limits of runs/log-batch, from MLflow's REST reference. */
export const LOG_BATCH_LIMITS = { metrics: 1000, params: 100, tags: 100, total: 1000, bytes: 1_000_000 } as const;

/** The server answered, and said no: a 4xx that retrying will not fix. */
export class MlflowApiError extends FerError {
  constructor(
    message: string,
    readonly status: number,
    readonly errorCode: string | undefined,
    hint?: string,
  ) {
    super(message, hint);
    this.name = 'MlflowApiError';
  }
}

/**
 * The server could not be reached, or kept failing (5xx, 429, timeouts) through every retry.
 * `maybeApplied` says whether a request may have reached the server before the failure (its
 * response was lost or it failed midway): appending requests must then be reconciled, not resent.
 */
export class MlflowUnavailableError extends SinkUnavailableError {
  constructor(
    message: string,
    readonly maybeApplied: boolean,
  ) {
    super(message, message.replace(/^MLflow server \S+ unavailable /, ''));
    this.name = 'MlflowUnavailableError';
  }
}

export interface ClientOptions {
  uri: string;
  credentials?: TrackingCredentials;
  /** Attempts per request, the first included (default 5). */
  attempts?: number;
  /** First backoff delay in ms, doubled each retry, capped by maxDelayMs (defaults 250 and 8000). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Time allowed for response headers and between body chunks (default 30 s). */
  timeoutMs?: number;
  /** For tests and the journal's backoff: the random source of the jitter. */
  random?: () => number;
}

type Body = string | (() => Readable);

const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);

export class MlflowClient {
  readonly uri: string;
  private readonly base: URL;
  private readonly dispatcher: Dispatcher;
  private readonly headers: Record<string, string>;
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  private readonly random: () => number;

  constructor(options: ClientOptions) {
    const parsed = new URL(options.uri);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new MlflowApiError(`tracking URI ${redactUri(options.uri)}: fer talks to MLflow tracking servers over http(s)`, 0, 'INVALID_PARAMETER_VALUE', 'set MLFLOW_TRACKING_URI to the server, e.g. http://127.0.0.1:5000, or leave it unset to record under runs/ only');
    }
    const headers: Record<string, string> = { 'user-agent': 'fer' };
    // Credentials may come inside the URI (http://user:pass@host), as MLflow's own client allows.
    const username = options.credentials?.username ?? (parsed.username ? decodeURIComponent(parsed.username) : undefined);
    const password = options.credentials?.password ?? (parsed.password ? decodeURIComponent(parsed.password) : undefined);
    if (options.credentials?.token) headers.authorization = `Bearer ${options.credentials.token}`;
    else if (username !== undefined) headers.authorization = `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
    parsed.username = '';
    parsed.password = '';
    this.base = parsed;
    this.uri = parsed.toString().replace(/\/$/, '');
    this.headers = headers;
    this.attempts = options.attempts ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 8000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.random = options.random ?? Math.random;
    // HTTP_PROXY, HTTPS_PROXY and NO_PROXY are honoured as curl and MLflow's Python client honour
    // them; without a proxy set this is a plain agent.
    this.dispatcher = new EnvHttpProxyAgent({ keepAliveTimeout: 10_000, connections: 4, connect: { timeout: 10_000 } });
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  // --- experiments -------------------------------------------------------------------------

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    try {
      const r = await this.call<{ experiment: Experiment }>('GET', 'mlflow/experiments/get-by-name', { experiment_name: name });
      return r.experiment;
    } catch (error) {
      if (error instanceof MlflowApiError && error.errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw error;
    }
  }

  async createExperiment(name: string, tags: KeyValue[] = []): Promise<string> {
    const r = await this.call<{ experiment_id: string }>('POST', 'mlflow/experiments/create', undefined, { name, tags });
    return r.experiment_id;
  }

  /** The experiment's id, creating it if needed (and tolerating another writer creating it first). */
  async ensureExperiment(name: string, tags: KeyValue[] = []): Promise<string> {
    const found = await this.getExperimentByName(name);
    if (found) {
      if (found.lifecycle_stage === 'deleted') {
        throw new MlflowApiError(`MLflow experiment "${name}" is deleted`, 400, 'INVALID_STATE', `restore it in the MLflow UI, or choose another name with tracking.experiment or MLFLOW_EXPERIMENT_NAME`);
      }
      return found.experiment_id;
    }
    try {
      return await this.createExperiment(name, tags);
    } catch (error) {
      if (error instanceof MlflowApiError && error.errorCode === 'RESOURCE_ALREADY_EXISTS') {
        const again = await this.getExperimentByName(name);
        if (again) return again.experiment_id;
      }
      throw error;
    }
  }

  /** Active experiments, following page tokens. */
  async searchExperiments(): Promise<Experiment[]> {
    const out: Experiment[] = [];
    let pageToken: string | undefined;
    do {
      const r = await this.call<{ experiments?: Experiment[]; next_page_token?: string }>('POST', 'mlflow/experiments/search', undefined, { max_results: 1000, ...(pageToken ? { page_token: pageToken } : {}) });
      out.push(...(r.experiments ?? []));
      pageToken = r.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    await this.call('POST', 'mlflow/experiments/set-experiment-tag', undefined, { experiment_id: experimentId, key, value });
  }

  // --- runs ----------------------------------------------------------------------------------

  async createRun(input: { experimentId: string; runName: string; startTime: number; tags: KeyValue[] }): Promise<RunInfo> {
    const r = await this.call<{ run: Run }>('POST', 'mlflow/runs/create', undefined, {
      experiment_id: input.experimentId,
      run_name: input.runName,
      start_time: input.startTime,
      tags: input.tags,
    });
    return r.run.info;
  }

  async updateRun(runId: string, update: { status?: RunStatus; endTime?: number; runName?: string }): Promise<RunInfo> {
    const r = await this.call<{ run_info: RunInfo }>('POST', 'mlflow/runs/update', undefined, {
      run_id: runId,
      ...(update.status ? { status: update.status } : {}),
      ...(update.endTime !== undefined ? { end_time: update.endTime } : {}),
      ...(update.runName ? { run_name: update.runName } : {}),
    });
    return r.run_info;
  }

  async getRun(runId: string): Promise<Run> {
    const r = await this.call<{ run: Run }>('GET', 'mlflow/runs/get', { run_id: runId });
    return r.run;
  }

  async deleteRun(runId: string): Promise<void> {
    await this.call('POST', 'mlflow/runs/delete', undefined, { run_id: runId });
  }

  /** Every run matching the filter, following page tokens. */
  async searchRuns(experimentIds: string[], filter: string, orderBy: string[] = ['attributes.start_time ASC']): Promise<Run[]> {
    const out: Run[] = [];
    let pageToken: string | undefined;
    do {
      const r = await this.call<{ runs?: Run[]; next_page_token?: string }>('POST', 'mlflow/runs/search', undefined, {
        experiment_ids: experimentIds,
        filter,
        max_results: 1000,
        order_by: orderBy,
        ...(pageToken ? { page_token: pageToken } : {}),
      });
      out.push(...(r.runs ?? []));
      pageToken = r.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  /** All points of one metric of a run, following page tokens. */
  async metricHistory(runId: string, key: string): Promise<MetricPoint[]> {
    const out: MetricPoint[] = [];
    let pageToken: string | undefined;
    do {
      const r = await this.call<{ metrics?: MetricPoint[]; next_page_token?: string }>('GET', 'mlflow/metrics/get-history', {
        run_id: runId,
        metric_key: key,
        max_results: '25000',
        ...(pageToken ? { page_token: pageToken } : {}),
      });
      out.push(...(r.metrics ?? []).map((m) => ({ key: m.key, value: Number(m.value), timestamp: Number(m.timestamp), step: Number(m.step ?? 0) })));
      pageToken = r.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  /**
   * Logs metrics, params and tags, split into requests within the server's log-batch limits.
   * Callers that may resend metrics must reconcile first: the server appends metric points.
   */
  async logBatch(runId: string, batch: { metrics?: MetricPoint[]; params?: KeyValue[]; tags?: KeyValue[] }): Promise<void> {
    for (const chunk of chunkBatch(batch)) {
      await this.call('POST', 'mlflow/runs/log-batch', undefined, { run_id: runId, ...chunk });
    }
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.call('POST', 'mlflow/runs/set-tag', undefined, { run_id: runId, key, value });
  }

  async logInputs(runId: string, datasets: DatasetInput[]): Promise<void> {
    await this.call('POST', 'mlflow/runs/log-inputs', undefined, { run_id: runId, datasets });
  }

  // --- logged models (MLflow 3) and the Model Registry ------------------------------------

  async createLoggedModel(input: { experimentId: string; name: string; sourceRunId: string; modelType?: string; tags: KeyValue[] }): Promise<LoggedModel> {
    const r = await this.call<{ model: LoggedModel }>('POST', 'mlflow/logged-models', undefined, {
      experiment_id: input.experimentId,
      name: input.name,
      source_run_id: input.sourceRunId,
      ...(input.modelType ? { model_type: input.modelType } : {}),
      tags: input.tags,
    });
    return r.model;
  }

  async getLoggedModel(modelId: string): Promise<LoggedModel> {
    const r = await this.call<{ model: LoggedModel }>('GET', `mlflow/logged-models/${encodeURIComponent(modelId)}`);
    return r.model;
  }

  /** Logged models matching the filter (`tags.\`k\` = 'v' AND name = 'n'), following page tokens. */
  async searchLoggedModels(experimentIds: string[], filter: string): Promise<LoggedModel[]> {
    const out: LoggedModel[] = [];
    let pageToken: string | undefined;
    do {
      const r = await this.call<{ models?: LoggedModel[]; next_page_token?: string }>('POST', 'mlflow/logged-models/search', undefined, {
        experiment_ids: experimentIds,
        filter,
        max_results: 100,
        ...(pageToken ? { page_token: pageToken } : {}),
      });
      out.push(...(r.models ?? []));
      pageToken = r.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  /** Marks a logged model's files as all uploaded (or their upload as failed). */
  async finalizeLoggedModel(modelId: string, status: 'LOGGED_MODEL_READY' | 'LOGGED_MODEL_UPLOAD_FAILED'): Promise<LoggedModel> {
    const r = await this.call<{ model: LoggedModel }>('PATCH', `mlflow/logged-models/${encodeURIComponent(modelId)}`, undefined, { model_id: modelId, status });
    return r.model;
  }

  /** Links logged models to the run as its outputs (the run page's "Logged models"). */
  async logOutputs(runId: string, models: { modelId: string; step: number }[]): Promise<void> {
    await this.call('POST', 'mlflow/runs/outputs', undefined, { run_id: runId, models: models.map((m) => ({ model_id: m.modelId, step: m.step })) });
  }

  /** Creates the registered model, or finds it there already. */
  async ensureRegisteredModel(name: string, description?: string): Promise<void> {
    try {
      await this.call('POST', 'mlflow/registered-models/create', undefined, { name, ...(description ? { description } : {}) });
    } catch (error) {
      if (error instanceof MlflowApiError && error.errorCode === 'RESOURCE_ALREADY_EXISTS') return;
      throw error;
    }
  }

  async createModelVersion(input: { name: string; source: string; runId: string; modelId?: string; tags: KeyValue[]; description?: string }): Promise<ModelVersion> {
    const r = await this.call<{ model_version: ModelVersion }>('POST', 'mlflow/model-versions/create', undefined, {
      name: input.name,
      source: input.source,
      run_id: input.runId,
      ...(input.modelId ? { model_id: input.modelId } : {}),
      tags: input.tags,
      ...(input.description ? { description: input.description } : {}),
    });
    return r.model_version;
  }

  async searchModelVersions(filter: string): Promise<ModelVersion[]> {
    const out: ModelVersion[] = [];
    let pageToken: string | undefined;
    do {
      const r = await this.call<{ model_versions?: ModelVersion[]; next_page_token?: string }>('GET', 'mlflow/model-versions/search', { filter, max_results: '1000', ...(pageToken ? { page_token: pageToken } : {}) });
      out.push(...(r.model_versions ?? []));
      pageToken = r.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  // --- artifacts (through the server's proxy: artifact URIs mlflow-artifacts:/...) -----------

  /** Uploads a file, streamed from disk so large weight files are never held in memory. */
  async uploadArtifact(artifactUri: string, artifactPath: string, file: string): Promise<void> {
    const size = statSync(file).size;
    await this.call('PUT', `mlflow-artifacts/artifacts/${encodePath(`${proxiedRoot(artifactUri)}/${artifactPath}`)}`, undefined, () => createReadStream(file), {
      'content-type': 'application/octet-stream',
      'content-length': String(size),
    });
  }

  async listArtifacts(artifactUri: string, artifactPath = ''): Promise<ArtifactEntry[]> {
    const root = proxiedRoot(artifactUri);
    const r = await this.call<{ files?: ArtifactEntry[] }>('GET', 'mlflow-artifacts/artifacts', { path: artifactPath ? `${root}/${artifactPath}` : root });
    return (r.files ?? []).map((f) => ({ ...f, path: artifactPath ? `${artifactPath}/${f.path}` : f.path }));
  }

  async downloadArtifact(artifactUri: string, artifactPath: string): Promise<Buffer> {
    const { body } = await this.send('GET', `mlflow-artifacts/artifacts/${encodePath(`${proxiedRoot(artifactUri)}/${artifactPath}`)}`, undefined, undefined, {}, true);
    return body;
  }

  // --- transport -----------------------------------------------------------------------------

  async call<T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'PATCH', endpoint: string, query?: Record<string, string>, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<T> {
    const payload: Body | undefined = body === undefined ? undefined : typeof body === 'function' ? (body as () => Readable) : JSON.stringify(body);
    const headers = typeof payload === 'string' ? { 'content-type': 'application/json', ...extraHeaders } : extraHeaders;
    const { body: raw } = await this.send(method, endpoint, query, payload, headers, false);
    if (raw.length === 0) return {} as T;
    try {
      return JSON.parse(raw.toString('utf8')) as T;
    } catch {
      throw new MlflowApiError(`${this.uri}: ${endpoint} answered with something that is not JSON; is this an MLflow tracking server?`, 0, undefined);
    }
  }

  private async send(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH',
    endpoint: string,
    query: Record<string, string> | undefined,
    payload: Body | undefined,
    headers: Record<string, string>,
    binary: boolean,
  ): Promise<{ body: Buffer }> {
    const url = new URL(`${this.base.pathname.replace(/\/$/, '')}/api/2.0/${endpoint}`, this.base);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    let lastError = '';
    let maybeApplied = false;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      let sent = false;
      try {
        const response = await request(url, {
          method,
          dispatcher: this.dispatcher,
          headers: { ...this.headers, ...headers },
          ...(payload === undefined ? {} : { body: typeof payload === 'string' ? payload : payload() }),
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
        });
        sent = true;
        const body = Buffer.from(await response.body.arrayBuffer());
        if (response.statusCode < 300) return { body };
        // Not a passing outage: a server without artifact serving answers 503 and names the flag (MLflow 3: "Artifact serving is disabled. Run `mlflow server` with `--serve-artifacts`").
        if (response.statusCode === 503 && endpoint.startsWith('mlflow-artifacts') && body.toString('utf8').includes('-serve-artifacts')) {
          throw new MlflowApiError(`${this.uri}: artifact serving is disabled (HTTP 503 on ${endpoint.split('/').slice(0, 2).join('/')}): ${serverMessage(body) ?? ''}`, 503, 'ARTIFACTS_NOT_SERVED');
        }
        if (RETRY_STATUS.has(response.statusCode)) {
          // A 5xx may come after the server applied part of the request.
          maybeApplied ||= response.statusCode !== 429 && method !== 'GET';
          lastError = `HTTP ${response.statusCode}${serverMessage(body) ? `: ${serverMessage(body)}` : ''}`;
        } else {
          throw this.apiError(endpoint, response.statusCode, body, binary);
        }
      } catch (error) {
        if (error instanceof MlflowApiError) throw error;
        // Connection refused or reset before anything was written cannot have been applied;
        // a timeout or a reset after the request went out might have been.
        const code = (error as { code?: string }).code;
        const beforeSend = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'UND_ERR_CONNECT_TIMEOUT';
        if (!beforeSend && method !== 'GET') maybeApplied = true;
        lastError = describeNetworkError(error, sent);
      }
      if (attempt < this.attempts) await sleep(this.backoff(attempt));
    }
    throw new MlflowUnavailableError(`MLflow server ${this.uri} unavailable (${endpoint}, ${this.attempts} attempts): ${lastError}`, maybeApplied);
  }

  /** Full jitter (AWS architecture blog's variant): spreads retries of many clients apart. */
  private backoff(attempt: number): number {
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(ceiling * (0.5 + 0.5 * this.random()));
  }

  private apiError(endpoint: string, status: number, body: Buffer, binary: boolean): MlflowApiError {
    const parsed = binary ? undefined : parseError(body);
    const message = parsed?.message ?? serverMessage(body) ?? `HTTP ${status}`;
    if (status === 401) {
      return new MlflowApiError(
        `MLflow server ${this.uri} refused the credentials (HTTP 401 on ${endpoint}): ${message}`,
        status,
        parsed?.code ?? 'UNAUTHENTICATED',
        this.headers.authorization
          ? 'check MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN): the server did not accept them'
          : 'this server asks for credentials: set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN)',
      );
    }
    if (status === 403) {
      return new MlflowApiError(`MLflow server ${this.uri}: permission denied on ${endpoint} (HTTP 403): ${message}`, status, parsed?.code ?? 'PERMISSION_DENIED', 'the user in MLFLOW_TRACKING_USERNAME needs EDIT permission on the experiment (ask the server admin)');
    }
    if (status === 404 && !parsed) {
      return new MlflowApiError(`${this.uri}: ${endpoint} not found (HTTP 404)`, status, 'ENDPOINT_NOT_FOUND', endpoint.startsWith('mlflow-artifacts') ? 'the server does not proxy artifacts: start it with --serve-artifacts (the default) or upload them yourself from the run folder' : 'is MLFLOW_TRACKING_URI the root of an MLflow tracking server?');
    }
    return new MlflowApiError(`MLflow rejected ${endpoint} (HTTP ${status}${parsed?.code ? ` ${parsed.code}` : ''}): ${message}`, status, parsed?.code);
  }
}

/** The path under the artifact proxy of a run's artifact URI (mlflow-artifacts:/1/<run>/artifacts). */
export function proxiedRoot(artifactUri: string): string {
  const match = /^mlflow-artifacts:(?:\/\/[^/]*)?\/*(.*)$/.exec(artifactUri);
  if (!match) {
    throw new MlflowApiError(
      `artifact location ${artifactUri} is not served by the tracking server`,
      0,
      'ARTIFACTS_NOT_PROXIED',
      'start the MLflow server with artifact proxying (mlflow server --artifacts-destination <dir>, the default in MLflow 2+); the artifacts stay in the run folder meanwhile',
    );
  }
  return match[1]!.replace(/\/$/, '');
}

function encodePath(p: string): string {
  return p.split('/').filter((s) => s.length > 0).map(encodeURIComponent).join('/');
}

/** Splits a batch into requests within LOG_BATCH_LIMITS (counts and an estimate of bytes). */
export function chunkBatch(batch: { metrics?: MetricPoint[]; params?: KeyValue[]; tags?: KeyValue[] }): { metrics: MetricPoint[]; params: KeyValue[]; tags: KeyValue[] }[] {
  const chunks: { metrics: MetricPoint[]; params: KeyValue[]; tags: KeyValue[] }[] = [];
  let current = { metrics: [] as MetricPoint[], params: [] as KeyValue[], tags: [] as KeyValue[] };
  let bytes = 0;
  const flush = () => {
    if (current.metrics.length + current.params.length + current.tags.length > 0) chunks.push(current);
    current = { metrics: [], params: [], tags: [] };
    bytes = 0;
  };
  const add = <K extends 'metrics' | 'params' | 'tags'>(kind: K, item: { metrics: MetricPoint; params: KeyValue; tags: KeyValue }[K]) => {
    const size = JSON.stringify(item).length + 1;
    const total = current.metrics.length + current.params.length + current.tags.length;
    if (current[kind].length >= LOG_BATCH_LIMITS[kind] || total >= LOG_BATCH_LIMITS.total || bytes + size > LOG_BATCH_LIMITS.bytes - 1024) flush();
    (current[kind] as (typeof item)[]).push(item);
    bytes += size;
  };
  for (const p of batch.params ?? []) add('params', p);
  for (const t of batch.tags ?? []) add('tags', t);
  for (const m of batch.metrics ?? []) add('metrics', m);
  flush();
  return chunks;
}

function parseError(body: Buffer): { code?: string; message?: string } | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error_code?: string; message?: string };
    if (parsed.error_code || parsed.message) return { ...(parsed.error_code ? { code: parsed.error_code } : {}), ...(parsed.message ? { message: parsed.message } : {}) };
  } catch {
    // not JSON: the caller uses the text
  }
  return undefined;
}

function serverMessage(body: Buffer): string | undefined {
  const parsed = parseError(body);
  if (parsed?.message) return parsed.message;
  const text = body.toString('utf8').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
  return text ? text.slice(0, 300) : undefined;
}

function describeNetworkError(error: unknown, sent: boolean): string {
  if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError) return `no answer in time${sent ? ' (while reading the answer)' : ''}`;
  const e = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code;
  return code ? `${code}${e.message ? ` (${e.message})` : ''}` : (e.message ?? String(error));
}
