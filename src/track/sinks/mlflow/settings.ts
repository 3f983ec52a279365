import { FerError } from '../../../core/errors.js';
import type { TrackingInputs } from '../../settings.js';

/**
 * Where runs go in MLflow, resolved the way MLflow's own client does: the command line first
 * (--tracking-uri), then the config's tracking section, then the MLFLOW_* environment variables.
 * Credentials only ever come from the environment (or the URI) and are never written anywhere.
 */
export interface TrackingCredentials {
  username?: string;
  password?: string;
  token?: string;
}

export interface MlflowSettings {
  /** The server, without credentials; undefined: no MLflow server. */
  uri?: string;
  /** Where the URI came from, for messages ("--tracking-uri", "MLFLOW_TRACKING_URI", ...). */
  uriSource?: string;
  experiment: string;
  tags: Record<string, string>;
  credentials: TrackingCredentials;
}

/** The experiment runs are filed under: tracking.experiment, then MLFLOW_EXPERIMENT_NAME, then the config's name. */
export function resolveExperiment(inputs: TrackingInputs): string {
  const env = inputs.env ?? process.env;
  return inputs.config?.experiment ?? env.MLFLOW_EXPERIMENT_NAME ?? inputs.configName;
}

export function resolveMlflowSettings(inputs: TrackingInputs): MlflowSettings {
  const env = inputs.env ?? process.env;
  const candidates: [string | undefined | null, string][] = [
    [inputs.cliUri, '--tracking-uri'],
    [inputs.config?.uri, 'tracking.uri'],
    [env.MLFLOW_TRACKING_URI, 'MLFLOW_TRACKING_URI'],
  ];
  const chosen = candidates.find(([value]) => typeof value === 'string' && value.trim() !== '');
  const credentials = credentialsFromEnv(env);
  let uri = chosen?.[0]?.trim();
  // `none` asks for the run folder only. Any other scheme (MLflow's file store, databricks, a
  // database) is one only MLflow's Python client writes; taking it for "no server" would record
  // locally while the user believes the runs are in MLflow, so it is refused by name.
  if (uri?.toLowerCase() === 'none') uri = undefined;
  if (uri && !/^https?:\/\//i.test(uri)) {
    throw new FerError(
      `${chosen![1] === '--tracking-uri' ? '--tracking-uri ' : `${chosen![1]}=`}${uri} is not supported: fer sends runs to an MLflow tracking server over http(s) only`,
      'start a server on that store (`mlflow server --backend-store-uri <store>`) and point fer at its http:// address, or pass --tracking-uri none (or unset it) to record in the run folder only',
    );
  }
  if (uri) uri = moveCredentials(uri, credentials);
  return {
    ...(uri ? { uri, uriSource: chosen![1] } : {}),
    experiment: resolveExperiment(inputs),
    tags: inputs.config?.tags ?? {},
    credentials,
  };
}

export function credentialsFromEnv(env: NodeJS.ProcessEnv): TrackingCredentials {
  return {
    ...(env.MLFLOW_TRACKING_USERNAME ? { username: env.MLFLOW_TRACKING_USERNAME } : {}),
    ...(env.MLFLOW_TRACKING_PASSWORD ? { password: env.MLFLOW_TRACKING_PASSWORD } : {}),
    ...(env.MLFLOW_TRACKING_TOKEN ? { token: env.MLFLOW_TRACKING_TOKEN } : {}),
  };
}

/** The URI without `user:password@`, which go into `credentials` unless the environment set them. */
export function moveCredentials(uri: string, credentials: TrackingCredentials): string {
  const parsed = new URL(uri);
  if (parsed.username && credentials.username === undefined) credentials.username = decodeURIComponent(parsed.username);
  if (parsed.password && credentials.password === undefined) credentials.password = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString().replace(/\/$/, '');
}
