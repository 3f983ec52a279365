/** Options every command takes. */
export interface GlobalOptions {
  /** `--set path=value` overrides, applied after the config files. */
  set?: string[];
  color?: boolean;
}

/** Every flag of every command, for did-you-mean on a mistyped one (a test checks it against --help). */
export const KNOWN_FLAGS: readonly string[] = ['set', 'color', 'help', 'version', 'json', 'summary', 'model', 'backend', 'gpu', 'tensorflow', 'cache', 'python', 'force', 'dry-run', 'workers', 'shard', 'collect', 'new', 'runs', 'split', 'tracking-uri', 'to', 'experiment', 'limit', 'plugin', 'plugins', 'out', 'best', 'write', 'format', 'member', 'port', 'host', 'max-body', 'smoke', 'yes', 'origin'];
