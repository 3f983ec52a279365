/** Options every command takes. */
export interface GlobalOptions {
  /** `--set path=value` overrides, applied after the config files. */
  set?: string[];
  color?: boolean;
  /** Also show TensorFlow's start-up notices, which loading the native backend keeps back. */
  verbose?: boolean;
}

/** Every flag of every command, for did-you-mean on a mistyped one (a test checks it against --help). */
export const KNOWN_FLAGS: readonly string[] = ['set', 'color', 'verbose', 'help', 'version', 'json', 'summary', 'model', 'backend', 'gpu', 'tensorflow', 'cache', 'python', 'force', 'dry-run', 'workers', 'shard', 'collect', 'new', 'runs', 'split', 'tracking-uri', 'to', 'experiment', 'limit', 'plugin', 'plugins', 'out', 'best', 'write', 'format', 'member', 'port', 'host', 'max-body', 'smoke', 'yes', 'origin'];
