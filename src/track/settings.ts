/**
 * What a run says about where it is tracked: the command line (--tracking-uri), the config's
 * tracking section and the environment. Each sink kind reads its own part (sink-kinds.ts); none of
 * them writes credentials anywhere.
 */
export interface TrackingInputs {
  /** --tracking-uri: the MLflow server, before the config's and the environment's. */
  cliUri?: string;
  config?: { uri?: string | null; experiment?: string | null; tags?: Record<string, string>; tensorboard?: string | null };
  configName: string;
  env?: NodeJS.ProcessEnv;
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
