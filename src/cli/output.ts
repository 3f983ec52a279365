import { isConfigError } from '../core/diagnostic.js';
import { diagnosticToJson, formatDiagnostics } from '../core/diagnostic-format.js';

/** Exit codes: 0 ok, 1 a failure while doing the work, 2 bad usage or an invalid config. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_INVALID = 2;

/** Colour on a terminal unless NO_COLOR is set (no-color.org); FORCE_COLOR forces it. */
export function useColor(stream: NodeJS.WriteStream, flag: boolean | undefined): boolean {
  if (flag !== undefined) return flag;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  if (process.env.NO_COLOR !== undefined) return false;
  return stream.isTTY === true;
}

export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  color: boolean;
  json: boolean;
}

/**
 * Runs a command body: a ConfigError prints its diagnostics (or JSON) and exits 2, any other error
 * prints one line (the stack with FER_DEBUG=1) and exits 1. Library code never exits the process.
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
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(process.env.FER_DEBUG ? String((error as Error)?.stack ?? message) : `error: ${message}`);
    const hint = (error as { hint?: unknown } | undefined)?.hint;
    if (typeof hint === 'string') io.stderr(`help: ${hint}`);
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
