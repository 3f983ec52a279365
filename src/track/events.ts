/**
 * What the journal records about a run, in fer's own terms: a run opened (its name, parent and
 * identity), its params, tags and description, metric points, files written, the data it used, and
 * its end. How a sink lays these out (MLflow's system tags and dataset inputs, TensorBoard's event
 * files) is the sink's business, in track/sinks/.
 */
export type TrackStatus = 'FINISHED' | 'FAILED' | 'KILLED';

/** One point of a metric series: its value at a step (an epoch; 0 for a run's final values). */
export interface MetricPoint {
  key: string;
  value: number;
  step: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
}

/** Who started a run, from which config file and commit. */
export interface RunSource {
  user: string;
  /** The config file, relative to where fer ran. */
  file: string;
  /** The git commit of the config file's repository, when it is in one. */
  commit?: string;
}

/** The data a run used, described well enough to tell two datasets apart and find the rows again. */
export interface DatasetRecord {
  name: string;
  /** The dataset's digest (fer's data digest). */
  digest: string;
  /** What the run did with it: `training`. */
  context: string;
  /** The kind of source (`csv`, `folder`, `synthetic`), where it is, and how it was split. */
  source: { kind: string; uri: string; split: unknown };
  /** Image shape and dtype (`uint8[48,48,1]`) and the class names. */
  schema: { images: string; classes: string[] };
  /** Rows in all, and per split. */
  profile: { rows: number; splits: Record<string, number> };
}

/** A run-folder file (relative to it) stored as `path` among a model's artifacts. */
export interface ModelFile {
  file: string;
  path: string;
  digest: string;
}

export type TrackEvent =
  /** A run begins (or, after it ended, begins again): `uid` names the run folder across reruns, resumes and shards. */
  | { type: 'open'; run: string; name: string; experiment: string; parent?: string; startTime: number; uid?: string; source?: RunSource; tags: Record<string, string> }
  /** Parameters, whole; `file` is the run-folder artifact that also holds them, for sinks that must cut long values. */
  | { type: 'params'; run: string; params: Record<string, string>; file?: string }
  | { type: 'tags'; run: string; tags: Record<string, string> }
  /** The run's description (Markdown), replacing the previous one. */
  | { type: 'note'; run: string; text: string }
  | { type: 'metrics'; run: string; points: MetricPoint[] }
  /** A file of the run folder (path relative to it) to store as the artifact `path`. */
  | { type: 'artifact'; run: string; file: string; path: string; digest: string }
  | { type: 'dataset'; run: string; dataset: DatasetRecord }
  /**
   * A model of the run (the ensemble on the parent, a task's best weights on its child): run-folder
   * files stored together as the model's artifacts, an `MLmodel` file among them. Its identity
   * (`uid`, run key and name) lets a sink find it again rather than log it twice, and find its run
   * from a journal other than the one that opened it (`fer register` on an older run).
   */
  | { type: 'model'; run: string; uid: string; experiment: string; name: string; files: ModelFile[]; tags: Record<string, string> }
  /**
   * The run's model `model` as a new version of the registered model `registeredModel`. It names
   * the run by identity (`uid`, `experiment`) too: `fer register` records it in a journal of its own,
   * apart from the one that opened the run.
   */
  | { type: 'register'; run: string; uid: string; experiment: string; model: string; registeredModel: string; tags: Record<string, string> }
  | { type: 'close'; run: string; status: TrackStatus; endTime: number };

export type JournalEntry = TrackEvent & { seq: number };
