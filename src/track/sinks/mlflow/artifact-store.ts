import { copyFileSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SinkBlockedError } from '../../sink.js';
import { MlflowApiError, type MlflowClient } from './client.js';

/**
 * Where the artifacts of a run (or of a logged model) go, told by the scheme of its artifact URI as
 * the server gave it, never guessed from an error:
 * - `mlflow-artifacts:` the server proxies them: PUT through its artifact endpoints;
 * - `file:` (or an absolute path) a folder fer writes itself, as MLflow's Python client does with
 *   its local artifact repository, when this machine can write there;
 * - anything else (s3:, gs:, wasbs:, hdfs:, a path relative to the server's working directory)
 *   fer cannot write: those artifacts wait in the journal, and nothing else waits for them.
 */
export type ArtifactStore = { kind: 'proxied'; uri: string } | { kind: 'local'; uri: string; dir: string } | { kind: 'foreign'; uri: string };

export function artifactStoreOf(uri: string): ArtifactStore {
  if (/^mlflow-artifacts:/i.test(uri)) return { kind: 'proxied', uri };
  if (/^file:/i.test(uri)) {
    try {
      return { kind: 'local', uri, dir: fileURLToPath(uri) };
    } catch {
      // file://otherhost/...: not a path of this machine.
      return { kind: 'foreign', uri };
    }
  }
  // A scheme-less absolute path is how MLflow writes a local artifact root given without file:.
  if (!/^[a-z][a-z0-9+.-]*:/i.test(uri) && path.isAbsolute(uri)) return { kind: 'local', uri, dir: uri };
  return { kind: 'foreign', uri };
}

/**
 * Artifacts that cannot be delivered to this server from here: they are kept pending in the journal
 * (a later `fer sync` to a server that can take them delivers them) while metrics, params, tags and
 * statuses go on. `uri` is the artifact root that could not be written.
 */
export class ArtifactsHeldError extends SinkBlockedError {
  constructor(
    message: string,
    hint: string,
    readonly uri: string,
  ) {
    super(message, hint);
    this.name = 'ArtifactsHeldError';
  }
}

const SERVE = 'start the server with `mlflow server --serve-artifacts` (experiments created then get mlflow-artifacts: roots; an existing experiment keeps its own)';
const FIX = `${SERVE}, or give it a file: artifact root on a disk this machine can write (--default-artifact-root file:///...)`;

/** Why artifacts under a root of another kind than mlflow-artifacts: and file: wait. */
export function foreignRoot(server: string, uri: string): ArtifactsHeldError {
  return new ArtifactsHeldError(`MLflow server ${server} does not proxy artifacts: its artifact root ${experimentRoot(uri)} is not a local path fer can write`, FIX, uri);
}

/**
 * The experiment's artifact root of a run's (<root>/<run id>/artifacts) or a logged model's
 * (<root>/models/<model id>/artifacts) artifact URI: one name for every run of the experiment.
 */
export function experimentRoot(uri: string): string {
  return uri.replace(/\/(?:models\/m-)?[0-9a-f]{32}\/artifacts\/?$/, '');
}

/** Stores the run-folder file `file` as `artifactPath` under the artifact root `uri`. */
export async function putArtifact(client: MlflowClient, uri: string, artifactPath: string, file: string): Promise<void> {
  const store = artifactStoreOf(uri);
  if (store.kind === 'proxied') {
    try {
      await client.uploadArtifact(uri, artifactPath, file);
    } catch (error) {
      // The root says proxied but the server does not serve artifacts now: restarted without --serve-artifacts.
      if (error instanceof MlflowApiError && (error.errorCode === 'ENDPOINT_NOT_FOUND' || error.errorCode === 'ARTIFACTS_NOT_SERVED')) {
        const how = error.errorCode === 'ENDPOINT_NOT_FOUND' ? 'its mlflow-artifacts endpoints answer 404' : 'artifact serving is disabled';
        throw new ArtifactsHeldError(`MLflow server ${client.uri} does not serve artifacts now (${how}), yet the artifact root ${experimentRoot(uri)} is one it proxied`, `restart the server with artifact serving (\`mlflow server --serve-artifacts\`, the default) and the same --artifacts-destination; the artifacts wait in the journal meanwhile`, uri);
      }
      throw error;
    }
    return;
  }
  if (store.kind === 'foreign') throw foreignRoot(client.uri, uri);
  const target = path.join(store.dir, ...artifactPath.split('/').filter((s) => s.length > 0));
  // Within the root only: an artifact path never climbs out of it.
  if (path.relative(store.dir, target).startsWith('..')) throw new MlflowApiError(`artifact path ${artifactPath} leaves the artifact root ${uri}`, 400, 'INVALID_PARAMETER_VALUE');
  const temporary = `${target}.fer-${process.pid}.tmp`;
  try {
    mkdirSync(path.dirname(target), { recursive: true });
    // A copy under another name, then a rename: a reader (or a crash) never sees half a file, and a replay writes the same bytes again.
    copyFileSync(file, temporary);
    renameSync(temporary, target);
  } catch (error) {
    try {
      rmSync(temporary, { force: true });
    } catch {
      // Its folder could not be made (ENOTDIR, EACCES): there is nothing to remove.
    }
    const e = error as NodeJS.ErrnoException;
    throw new ArtifactsHeldError(
      `MLflow server ${client.uri} does not proxy artifacts, and fer cannot write its local artifact root ${experimentRoot(uri)} from here (${e.code ?? 'error'}: ${e.message.replace(/^[A-Z]+: /, '')})`,
      `let this user write ${experimentRoot(store.dir)} (the server's file: root must be on a disk this machine shares), or ${SERVE}`,
      uri,
    );
  }
}
