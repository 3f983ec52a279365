import type { JournalRef, Sink } from '../../sink.js';
import { MlflowClient } from './client.js';
import { JournalDelivery } from './delivery.js';
import { EXPERIMENT_TAGS } from './layout.js';
import type { TrackingCredentials } from './settings.js';

/** An MLflow tracking server as a sink: one client (one connection pool) for every journal it delivers. */
export class MlflowSink implements Sink {
  readonly kind = 'mlflow';
  readonly title = 'MLflow';
  readonly client: MlflowClient;

  constructor(
    uri: string,
    credentials: TrackingCredentials,
    /** Where the URI came from ("MLFLOW_TRACKING_URI", ...), for messages; undefined for fer sync --to. */
    private readonly uriSource?: string,
  ) {
    this.client = new MlflowClient({ uri, credentials });
  }

  get label(): string {
    return `MLflow ${this.client.uri}`;
  }

  get target(): string {
    return this.client.uri;
  }

  /** `fer sync` finds the server in MLFLOW_TRACKING_URI by itself; from anywhere else it needs --to. */
  get syncTo(): string | undefined {
    return this.uriSource === 'MLFLOW_TRACKING_URI' ? undefined : this.client.uri;
  }

  describe(experiment: string): string {
    return `MLflow ${this.client.uri}${this.uriSource ? ` (from ${this.uriSource})` : ''}, experiment "${experiment}"`;
  }

  async preflight(experiment: string): Promise<void> {
    await this.client.ensureExperiment(experiment, EXPERIMENT_TAGS);
  }

  open(journal: JournalRef): JournalDelivery {
    return new JournalDelivery({ ...journal, client: this.client, sink: this });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
