import path from 'node:path';
import { FerError } from '../core/errors.js';
import { openRun } from '../store/saved-run.js';
import { journalFiles, PARENT_RUN, readJournal, type JournalEntry } from '../track/journal.js';
import { runTracking } from '../track/sink-kinds.js';
import { RunTracker } from '../track/tracker.js';
import { MlflowSink } from '../track/sinks/mlflow/sink.js';
import { MlflowClient } from '../track/sinks/mlflow/client.js';
import { credentialsFromEnv } from '../track/sinks/mlflow/settings.js';
import { ENSEMBLE_MODEL, ensembleModelPackage } from './model-package.js';
import { registrationTags } from './run-tracking.js';

/**
 * `fer register <run> <name>`: a finished run's ensemble as a new version of a registered model,
 * after the fact (`tracking.register` does it as the run ends). It goes through a journal of its
 * own in the run folder (`journal-register.jsonl`), so a `fer run` writing the main journal at the
 * same time is not disturbed, and a server that is down gets it with `fer sync` later. A run from
 * before fer logged models gets its ensemble logged first.
 */
export interface RegisterResult {
  registeredModel: string;
  /** The version the registry gave it, when the server answered. */
  version?: string;
  uri: string;
  /** Events still waiting for the server (0 when registered). */
  pending: number;
  error?: string;
}

export async function registerRun(options: { runDir: string; name: string; trackingUri?: string; log: (text: string) => void }): Promise<RegisterResult> {
  const run = openRun(options.runDir);
  const { manifest, config } = run;
  if (manifest.state !== 'finished' || !run.summary) {
    throw new FerError(`${options.runDir} is not finished (state ${manifest.state}): only a finished run's ensemble can be registered`, 'run the experiment again to finish it, then register it');
  }
  const uid = (manifest as { uid?: string }).uid;
  if (!uid) throw new FerError(`${options.runDir} has no run identity (run.json from an older fer)`, 'run the experiment again with this fer: it keeps the trained tasks and records one');
  const where = runTracking({ ...(options.trackingUri ? { cliUri: options.trackingUri } : {}), config: config.tracking, configName: config.name });
  const sinks = where.sinks.filter((s): s is MlflowSink => s instanceof MlflowSink);
  if (sinks.length === 0) throw new FerError('fer register needs an MLflow server: none is set', 'set MLFLOW_TRACKING_URI, or pass --tracking-uri');
  // The experiment the run was recorded in (MLFLOW_EXPERIMENT_NAME may have named it then), else today's choice.
  const opened = journalFiles(options.runDir)
    .flatMap((file) => readJournal(file))
    .find((e): e is Extract<JournalEntry, { type: 'open' }> => e.type === 'open' && e.run === PARENT_RUN);
  const experiment = opened?.experiment ?? where.experiment;
  const tracker = new RunTracker({ runDir: options.runDir, writer: 'register', experiment, sinks, log: options.log });
  try {
    await tracker.preflight();
  } catch (error) {
    await tracker.shutdown();
    throw error;
  }
  const logged = journalFiles(options.runDir).some((file) => readJournal(file).some((e) => e.type === 'model' && e.run === PARENT_RUN && e.name === ENSEMBLE_MODEL));
  if (!logged) {
    const pkg = ensembleModelPackage(options.runDir, imageOf(run), manifest.ferVersion);
    tracker.logModel(PARENT_RUN, uid, pkg.name, pkg.files, { 'fer.combine': run.summary.method });
  }
  tracker.register({ run: PARENT_RUN, uid, model: ENSEMBLE_MODEL, registeredModel: options.name, tags: registrationTags(run.summary, manifest.dataDigest, config.name) });
  const outcome = await tracker.finish(config.tracking.flush_seconds * 1000);
  const result: RegisterResult = { registeredModel: options.name, uri: sinks[0]!.target, pending: outcome.pending, ...(outcome.error ? { error: outcome.error } : {}) };
  if (outcome.pending === 0 && outcome.parentRunId) {
    // The sink's client is closed with the tracker; a new one, with the same credentials, asks which version it became.
    const client = new MlflowClient({ uri: sinks[0]!.target, credentials: credentialsFromEnv(process.env) });
    try {
      const versions = await client.searchModelVersions(`name = '${options.name.replace(/'/g, '')}' AND run_id = '${outcome.parentRunId}'`);
      const mine = versions.filter((v) => v.tags?.some((t) => t.key === 'fer.model_key' && t.value === `${PARENT_RUN}/${ENSEMBLE_MODEL}`));
      const latest = mine.sort((a, b) => Number(b.version) - Number(a.version))[0];
      if (latest) result.version = latest.version;
    } finally {
      await client.close();
    }
  }
  return result;
}

/** The image shape the run's data has (its resolved config writes it out; FER2013's before it did). */
function imageOf(run: ReturnType<typeof openRun>): { height: number; width: number; channels: number } {
  return run.config.data?.image ?? { height: 48, width: 48, channels: 1 };
}

export function describeRegistration(runDir: string, result: RegisterResult, cwd: string): string {
  const where = path.relative(cwd, runDir) || runDir;
  if (result.pending > 0) return `${where}: registration of ${result.registeredModel} waits in the run's journal (${result.error ?? 'server not reachable'}); send it with fer sync ${where}`;
  return `${where}: registered as ${result.registeredModel}${result.version ? ` version ${result.version}` : ''} on ${result.uri}`;
}
