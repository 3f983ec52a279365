/**
 * Where runs are tracked, resolved the way MLflow's own client does: the command line first
 * (--tracking-uri), then the config's tracking section, then MLFLOW_* environment variables.
 * Credentials only ever come from the environment (or the URI) and are never written anywhere.
 */

export interface TrackingCredentials {
  username?: string;
  password?: string;
  token?: string;
}

export interface TrackingSettings {
  /** The server, without credentials; undefined: record under runs/ only. */
  uri?: string;
  /** Where the URI came from, for messages ("--tracking-uri", "MLFLOW_TRACKING_URI", ...). */
  uriSource?: string;
  experiment: string;
  tags: Record<string, string>;
  credentials: TrackingCredentials;
}

export interface TrackingInputs {
  cliUri?: string;
  config?: { uri?: string | null; experiment?: string | null; tags?: Record<string, string> };
  configName: string;
  env?: NodeJS.ProcessEnv;
}

export function resolveTrackingSettings(inputs: TrackingInputs): TrackingSettings {
  const env = inputs.env ?? process.env;
  const candidates: [string | undefined | null, string][] = [
    [inputs.cliUri, '--tracking-uri'],
    [inputs.config?.uri, 'tracking.uri'],
    [env.MLFLOW_TRACKING_URI, 'MLFLOW_TRACKING_URI'],
  ];
  const chosen = candidates.find(([value]) => typeof value === 'string' && value.trim() !== '');
  const credentials: TrackingCredentials = {
    ...(env.MLFLOW_TRACKING_USERNAME ? { username: env.MLFLOW_TRACKING_USERNAME } : {}),
    ...(env.MLFLOW_TRACKING_PASSWORD ? { password: env.MLFLOW_TRACKING_PASSWORD } : {}),
    ...(env.MLFLOW_TRACKING_TOKEN ? { token: env.MLFLOW_TRACKING_TOKEN } : {}),
  };
  let uri = chosen?.[0]?.trim();
  // A local path or file: URI means MLflow's file store, which only the Python client writes;
  // fer's own local record is the run folder, so such a URI is treated as "no server".
  if (uri && !/^https?:\/\//i.test(uri)) uri = undefined;
  if (uri) {
    const parsed = new URL(uri);
    if (parsed.username && credentials.username === undefined) credentials.username = decodeURIComponent(parsed.username);
    if (parsed.password && credentials.password === undefined) credentials.password = decodeURIComponent(parsed.password);
    parsed.username = '';
    parsed.password = '';
    uri = parsed.toString().replace(/\/$/, '');
  }
  return {
    ...(uri ? { uri, uriSource: chosen![1] } : {}),
    experiment: inputs.config?.experiment ?? env.MLFLOW_EXPERIMENT_NAME ?? inputs.configName,
    tags: inputs.config?.tags ?? {},
    credentials,
  };
}

/** A URI fit for messages and files: user and password removed. */
export function redactUri(uri: string): string {
  try {
    const parsed = new URL(uri);
    if (parsed.username || parsed.password) {
      parsed.username = '***';
      parsed.password = '';
    }
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return uri.replace(/\/\/[^@/]*@/, '//***@');
  }
}
