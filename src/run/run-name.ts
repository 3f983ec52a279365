/**
 * The names runs carry in a tracking UI's runs table and chart legends, where `demo`, `demo` and
 * `demo` cannot be told apart. A parent is its config's name plus what makes it differ: the `--set`
 * overrides it was started with, or else a short id of its run folder (config and data digest),
 * which changes whenever the config or the data does. A child is `<parent name>/<task key>`, whose
 * fold number is the one the `fer.fold` tag holds (0-based, as task keys and folders are).
 */
export function parentRunName(configName: string, runFolderName: string, overrides: readonly string[]): string {
  // Where a run is reported (tracking.*) is not what it is, as with its params.
  const differs = overrides.filter((o) => !o.trim().startsWith('tracking.'));
  if (differs.length > 0) return `${configName} ${differs.join(' ')}`;
  return `${configName} ${shortRunId(runFolderName)}`;
}

/** `run-3f9a2c1d…-2` -> `3f9a2c1-2`: seven hex digits, as short git ids, plus the --fresh counter. */
export function shortRunId(runFolderName: string): string {
  const match = /^run-([0-9a-f]+)(-\d+)?$/.exec(runFolderName);
  if (!match) return runFolderName;
  return `${match[1]!.slice(0, 7)}${match[2] ?? ''}`;
}

export function childRunName(parentName: string, taskKey: string): string {
  return `${parentName}/${taskKey}`;
}

/** The `fer.fold` tag and `fold` param: the fold number from 0, as in the task key, or `all` for a final fit. */
export function foldLabel(fold: number | null): string {
  return fold === null ? 'all' : String(fold);
}
