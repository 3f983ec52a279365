/** Options every command takes. */
export interface GlobalOptions {
  /** `--set path=value` overrides, applied after the config files. */
  set?: string[];
  color?: boolean;
}
