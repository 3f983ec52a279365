import path from 'node:path';

/**
 * Where a config names files or folders of this machine: data sources (`data.source.<kind>.path`,
 * or the bare `csv: file` form), the data cache and models' initial weights. Reading a config makes
 * them absolute (load.ts); what a run shows of them (MLflow params) is relative to the config file
 * again, as a config written there would spell them: the same in every checkout and on every
 * machine that lays the files out alike. `*` is any key.
 */
const SHOWN_RELATIVE: readonly (readonly string[])[] = [
  ['data', 'source', '*'],
  ['data', 'source', '*', 'path'],
  ['data', 'cache'],
  ['models', '*', 'init', 'run'],
  ['models', '*', 'init', 'model'],
];

const isUrl = (text: string) => /^https?:\/\//.test(text);

/** A copy of a plain (JSON-like) config whose path fields are relative to the folder of `configFile`, with `/` between segments (URLs unchanged). */
export function pathsRelativeTo<T>(config: T, configFile: string): T {
  const base = path.dirname(configFile);
  const copy = structuredClone(config);
  const visit = (value: unknown, pattern: readonly string[]): void => {
    if (typeof value !== 'object' || value === null || pattern.length === 0) return;
    const [head, ...rest] = pattern as [string, ...string[]];
    const record = value as Record<string, unknown>;
    for (const key of head === '*' ? Object.keys(record) : [head]) {
      const field = record[key];
      if (rest.length > 0) visit(field, rest);
      else if (typeof field === 'string' && path.isAbsolute(field) && !isUrl(field)) record[key] = path.relative(base, field).split(path.sep).join('/') || '.';
    }
  };
  for (const pattern of SHOWN_RELATIVE) visit(copy, pattern);
  return copy;
}
