import type { Argv } from 'yargs';

/** The environment variables fer reads, each in a line of help. */
const ENVIRONMENT = {
  config: 'any variable a config names as ${NAME}; the shipped configs read FER_DATA, the folder holding FER2013',
  MLFLOW_TRACKING_URI: 'the MLflow server (after --tracking-uri and tracking.uri); unset: runs stay under runs/',
  MLFLOW_EXPERIMENT_NAME: 'the MLflow experiment when the config names none',
  MLFLOW_TRACKING_USERNAME: 'with MLFLOW_TRACKING_PASSWORD: basic auth to MLflow (or MLFLOW_TRACKING_TOKEN)',
  FER_KERNELS: 'which native kernels to use instead of the CPU\'s choice (docs/engine.md)',
  FER_LOCK_STALE_SECONDS: 'when another machine\'s lock on a run counts as stale (default 300)',
  FER_CACHE: 'fer\'s cache folder (time estimates, downloaded models; default ~/.cache/fer)',
  FER_NATIVE_CACHE: 'where fer setup native keeps TensorFlow and the addons it builds; fer looks there for its stderr hold (default ~/.cache/fer/native)',
  CUDA_VISIBLE_DEVICES: 'the GPUs a run may use (with tfjs-node-gpu)',
  NO_COLOR: 'no colour (FORCE_COLOR=1 forces it, FORCE_COLOR=0 turns it off); TERM=dumb: no live progress',
  FER_DEBUG: '1: print the stack of an error',
} as const;

export type EnvName = keyof typeof ENVIRONMENT;

const EXIT_CODES = '0 ok, 1 a failure while working, 2 bad usage or an invalid config';

export interface CommandHelp {
  /** [command, what it does]; the command is printed whole on a line of its own. */
  examples?: readonly (readonly [string, string])[];
  env?: readonly EnvName[];
  /** Exit codes beyond the three every command has. */
  exits?: string;
}

/** What `--help` shows below the options: examples that are never broken mid-command, the environment, the exit codes. */
export function helpFooter(help: CommandHelp): string {
  const parts: string[] = [];
  if (help.examples && help.examples.length > 0) {
    parts.push(['Examples:', ...help.examples.map(([command, what]) => `${hanging('  ', `${what}:`)}\n    ${command}`)].join('\n'));
  }
  const env = [...(help.env ?? []), 'NO_COLOR', 'FER_DEBUG'] as EnvName[];
  const label = (name: EnvName) => (name === 'config' ? '${NAME}' : name);
  const width = Math.max(...env.map((name) => label(name).length));
  parts.push(['Environment:', ...env.map((name) => hanging(`  ${label(name).padEnd(width)}  `, ENVIRONMENT[name]))].join('\n'));
  parts.push(hanging('', `Exit codes: ${EXIT_CODES}${help.exits ? `, ${help.exits}` : ''}`));
  return parts.join('\n\n');
}

/** Adds the footer to a command's help. */
export function withHelp<T>(yargs: Argv<T>, help: CommandHelp): Argv<T> {
  return yargs.epilogue(helpFooter(help));
}

/** `--set`, for the commands that read a config (elsewhere it would mean nothing). */
export function withSet<T>(yargs: Argv<T>): Argv<T> {
  return yargs.option('set', {
    type: 'string',
    array: true,
    describe: 'override a config value: --set training.epochs=5 (dotted path, YAML value; ~path removes)',
    requiresArg: true,
  }) as unknown as Argv<T>;
}

/** The width help is laid out for (as main.ts tells yargs). */
export function helpWidth(): number {
  return Math.min(110, process.stdout.columns ?? 100);
}

/** `lead` then `text` wrapped at words to the help width, later lines indented under the text. */
function hanging(lead: string, text: string): string {
  const room = Math.max(30, helpWidth() - lead.length);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.map((l, i) => (i === 0 ? lead : ' '.repeat(lead.length)) + l).join('\n');
}
