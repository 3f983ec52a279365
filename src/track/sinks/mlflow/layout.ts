import type { DatasetRecord, RunSource, TrackEvent } from '../../journal.js';
import type { DatasetInput, KeyValue } from './client.js';

/**
 * How fer's events look in MLflow, laid out the way its UI reads them: the run's name and parent as
 * `mlflow.runName` and `mlflow.parentRunId` (the UI folds children under the parent), provenance as
 * `mlflow.user` and `mlflow.source.*`, the description as `mlflow.note.content`, the data as a
 * dataset input. fer's identity tags (`fer.run_uid` + `fer.key`) let delivery find a run again.
 */

/** Tags of experiments fer creates: the kind makes MLflow 3's UI open them on the runs table (model training), not the GenAI overview. */
export const EXPERIMENT_TAGS: KeyValue[] = [{ key: 'mlflow.experimentKind', value: 'custom_model_development' }];

export const NOTE_TAG = 'mlflow.note.content';
/** Below the limit older MLflow servers put on a tag value (they refuse longer ones; newer ones cut at 8000). */
export const TAG_VALUE_LIMIT = 5000;

export function identityTags(uid: string, key: string): Record<string, string> {
  return { 'fer.run_uid': uid, 'fer.key': key };
}

export function sourceTags(source: RunSource): Record<string, string> {
  return {
    'mlflow.user': source.user,
    'mlflow.source.name': source.file,
    'mlflow.source.type': 'LOCAL',
    ...(source.commit ? { 'mlflow.source.git.commit': source.commit } : {}),
  };
}

/** Every tag a run starts with: provenance, the event's own tags, identity, name and parent. */
export function openTags(event: Extract<TrackEvent, { type: 'open' }>, parentRunId: string | undefined): Record<string, string> {
  return fitTags({
    ...(event.source ? sourceTags(event.source) : {}),
    ...event.tags,
    ...(event.uid ? identityTags(event.uid, event.run) : {}),
    'mlflow.runName': event.name,
    ...(parentRunId ? { 'mlflow.parentRunId': parentRunId } : {}),
  });
}

/** Tag values cut to what every server takes (the description is left whole, as the UI shows it). */
export function fitTags(tags: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, k === NOTE_TAG || v.length <= TAG_VALUE_LIMIT ? v : `${v.slice(0, TAG_VALUE_LIMIT - 6)} [cut]`]));
}

export function keyValues(record: Record<string, string>): KeyValue[] {
  return Object.entries(record).map(([key, value]) => ({ key, value }));
}

/** MLflow keeps dataset digests up to 36 characters. */
const DIGEST_LENGTH = 32;

/** A dataset as MLflow's runs/log-inputs takes it (its source, schema and profile as JSON text). */
export function datasetInput(dataset: DatasetRecord): DatasetInput {
  return {
    tags: [{ key: 'mlflow.data.context', value: dataset.context }],
    dataset: {
      name: dataset.name,
      digest: dataset.digest.slice(0, DIGEST_LENGTH),
      source_type: dataset.source.kind === 'synthetic' ? 'code' : 'local',
      source: JSON.stringify({ uri: dataset.source.uri, split: dataset.source.split }),
      schema: JSON.stringify(dataset.schema),
      profile: JSON.stringify(dataset.profile),
    },
  };
}
