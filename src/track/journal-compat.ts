import type { DatasetRecord, JournalEntry } from './events.js';

/**
 * Journals written before the events were fer's own (fer 0.1.0) are read as today's events, so a
 * run recorded then still goes out with `fer sync`, to any sink. Two events differ:
 * - `dataset` carried MLflow's dataset input (`input: {tags, dataset: {source_type, source, ...}}`,
 *   its source, schema and profile as JSON text): it becomes a DatasetRecord, from which the MLflow
 *   sink builds the very same input again;
 * - `open` carried the run's identity only as the tag `fer.run_uid`: it becomes `uid` too.
 * Every other event is read as it was written (old tags keep their names: they are only tags).
 */
export function upgradeEntry(raw: Record<string, unknown>): JournalEntry {
  if (raw.type === 'dataset' && raw.dataset === undefined && typeof raw.input === 'object' && raw.input !== null) {
    const { input, ...rest } = raw;
    return { ...rest, dataset: datasetOfInput(input as LegacyDatasetInput) } as JournalEntry;
  }
  if (raw.type === 'open' && raw.uid === undefined) {
    const uid = (raw.tags as Record<string, string> | undefined)?.['fer.run_uid'];
    if (uid) return { ...raw, uid } as JournalEntry;
  }
  return raw as JournalEntry;
}

interface LegacyDatasetInput {
  tags?: { key: string; value: string }[];
  dataset: { name: string; digest: string; source_type: string; source: string; schema?: string; profile?: string };
}

function datasetOfInput(input: LegacyDatasetInput): DatasetRecord {
  const d = input.dataset;
  const source = parseJson(d.source) as { uri?: string; split?: unknown } | undefined;
  return {
    name: d.name,
    digest: d.digest,
    context: input.tags?.find((t) => t.key === 'mlflow.data.context')?.value ?? 'training',
    // MLflow's source types were `code` for generated data and `local` for files.
    source: { kind: d.source_type === 'code' ? 'synthetic' : 'local', uri: source?.uri ?? d.source, split: source?.split ?? {} },
    schema: (parseJson(d.schema) as DatasetRecord['schema'] | undefined) ?? { images: '', classes: [] },
    profile: (parseJson(d.profile) as DatasetRecord['profile'] | undefined) ?? { rows: 0, splits: {} },
  };
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
