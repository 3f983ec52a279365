import path from 'node:path';
import type { TrackingInputs } from './settings.js';
import type { Sink } from './sink.js';
import { MlflowSink } from './sinks/mlflow/sink.js';
import { credentialsFromEnv, moveCredentials, resolveExperiment, resolveMlflowSettings } from './sinks/mlflow/settings.js';
import { TARGET_PREFIX, TensorboardSink } from './sinks/tensorboard/sink.js';

/**
 * Every kind of sink fer can deliver a journal to, and how a run or `fer sync --to` names one. A new
 * kind (W&B, say) is a folder under sinks/ with its Sink, an entry here, and its key in the config's
 * tracking section (src/schema/sections.ts).
 */
export interface SinkKind {
  name: string;
  /** How `fer sync --to` names a destination of this kind, for help and errors. */
  targetForm: string;
  /** The sink a run asks for (command line, config, environment); undefined when it asks for none of this kind. */
  forRun(inputs: TrackingInputs): Sink | undefined;
  /** The sink a `fer sync --to` target names; undefined when the target is not of this kind. */
  forTarget(target: string, env: NodeJS.ProcessEnv, cwd: string): Sink | undefined;
}

export const SINK_KINDS: readonly SinkKind[] = [
  {
    name: 'mlflow',
    targetForm: 'http(s)://<host>:<port> (an MLflow tracking server)',
    forRun(inputs) {
      const settings = resolveMlflowSettings(inputs);
      return settings.uri ? new MlflowSink(settings.uri, settings.credentials, settings.uriSource) : undefined;
    },
    forTarget(target, env) {
      if (!/^https?:\/\//i.test(target)) return undefined;
      const credentials = credentialsFromEnv(env);
      return new MlflowSink(moveCredentials(target, credentials), credentials);
    },
  },
  {
    name: 'tensorboard',
    targetForm: `${TARGET_PREFIX}<folder> (a TensorBoard log folder)`,
    forRun(inputs) {
      const dir = inputs.config?.tensorboard;
      return dir ? new TensorboardSink(path.resolve(dir), 'tracking.tensorboard') : undefined;
    },
    forTarget(target, _env, cwd) {
      if (!target.startsWith(TARGET_PREFIX) || target.length === TARGET_PREFIX.length) return undefined;
      return new TensorboardSink(path.resolve(cwd, target.slice(TARGET_PREFIX.length)));
    },
  },
];

/** What a run tracks to: its experiment, its extra tags, and the sinks it asks for (none: the journal only). */
export function runTracking(inputs: TrackingInputs): { experiment: string; tags: Record<string, string>; sinks: Sink[] } {
  return {
    experiment: resolveExperiment(inputs),
    tags: inputs.config?.tags ?? {},
    sinks: SINK_KINDS.flatMap((kind) => kind.forRun(inputs) ?? []),
  };
}

/** The sink a `fer sync --to` target names; an error with the forms it takes otherwise. */
export function sinkForTarget(target: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Sink {
  for (const kind of SINK_KINDS) {
    const sink = kind.forTarget(target.trim(), env, cwd);
    if (sink) return sink;
  }
  throw Object.assign(new Error(`fer sync --to ${target}: not a destination fer knows`), { hint: `give one of: ${SINK_KINDS.map((k) => k.targetForm).join(', ')}` });
}
