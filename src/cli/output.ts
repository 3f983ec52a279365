import { isConfigError } from '../core/diagnostic.js';
import { diagnosticToJson, formatDiagnostics } from '../core/diagnostic-format.js';
import { FerError } from '../core/errors.js';
import { useColor } from '../core/terminal.js';

/** Exit codes: 0 ok, 1 a failure while doing the work, 2 bad usage or an invalid config. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_INVALID = 2;

export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  color: boolean;
  json: boolean;
}

/**
 * How the CLI shows an error: `error: <message>`, then `  help: <hint>` when it has one (as a
 * config diagnostic shows its hint). Any FerError is a user's problem and prints without a stack;
 * FER_DEBUG=1 prints the stack instead of the first line, for any error.
 */
export function formatError(error: unknown, debug = Boolean(process.env.FER_DEBUG)): string {
  const message = error instanceof Error ? error.message : String(error);
  const lines = [debug && error instanceof Error && error.stack ? error.stack : `error: ${message}`];
  // A hint of several lines keeps its lines under the first one's text.
  if (error instanceof FerError && error.hint !== undefined) lines.push(`  help: ${error.hint.split('\n').join('\n        ')}`);
  return lines.join('\n');
}

/**
 * Runs a command body: a ConfigError prints its diagnostics (or JSON) and exits 2, any other error
 * prints as formatError says and exits 1. Library code never exits the process.
 */
export async function runCommand(io: CommandIo, body: () => Promise<number | void>): Promise<void> {
  try {
    process.exitCode = (await body()) ?? EXIT_OK;
  } catch (error) {
    if (isConfigError(error)) {
      if (io.json) io.stdout(JSON.stringify({ ok: false, diagnostics: error.diagnostics.map((d) => diagnosticToJson(d)) }, null, 2));
      else io.stderr(formatDiagnostics(error.diagnostics, { color: io.color, sources: error.sources }));
      process.exitCode = EXIT_INVALID;
      return;
    }
    io.stderr(formatError(error));
    process.exitCode = EXIT_FAILURE;
  }
}

export function defaultIo(options: { color?: boolean; json?: boolean }): CommandIo {
  return {
    stdout: (text) => process.stdout.write(`${text}\n`),
    stderr: (text) => process.stderr.write(`${text}\n`),
    color: useColor(process.stderr, options.color),
    json: options.json ?? false,
  };
}
