/**
 * Diagnostics are values: library code returns or throws them with a source position,
 * and only the CLI decides how to print them (never `process.exit` below `cli/`).
 */
import { FerError } from './errors.js';

/** A 1-based line and column, as editors and terminals show them. */
export interface SourcePoint {
  line: number;
  column: number;
}

/** A range of text in one source (a file, or `<command line>` for `--set`). */
export interface SourceSpan {
  file: string;
  start: SourcePoint;
  end: SourcePoint;
}

export type Severity = 'error' | 'warning';

/** Stable identifiers, so tests and tools can match on the kind of problem, not its wording. */
export type DiagnosticCode =
  | 'yaml-syntax'
  | 'yaml-aliases'
  | 'file-not-found'
  | 'include-cycle'
  | 'env-unset'
  | 'override-syntax'
  | 'override-path'
  | 'unknown-key'
  | 'unknown-layer'
  | 'missing-key'
  | 'type'
  | 'enum'
  | 'range'
  | 'length'
  | 'pattern'
  | 'schema'
  | 'layer-entry'
  | 'unknown-template'
  | 'template-cycle'
  | 'template-param'
  | 'template-arg'
  | 'expression'
  | 'reference'
  /** Weights a model starts from come from a run that has not been made yet: a note for validate, an error for a run. */
  | 'init-source-pending'
  | 'duplicate-name'
  | 'unknown-model'
  | 'shape'
  | 'layer-args'
  | 'plugin'
  | 'empty-config'
  | 'data-missing';

export interface DiagnosticNote {
  message: string;
  span?: SourceSpan;
}

export interface Diagnostic {
  severity: Severity;
  code: DiagnosticCode;
  /** One line saying what is wrong. */
  message: string;
  span?: SourceSpan;
  /** The place in the document, written the way a user reads it: `models.cnn.layers[3]`. */
  path?: string;
  expected?: string;
  found?: string;
  /** A suggestion, usually a did-you-mean. */
  hint?: string;
  /** Context such as the chain of template uses that led here. */
  notes?: DiagnosticNote[];
}

/** An invalid configuration (exit code 2 at the CLI): carries every diagnostic found, not only the first. */
export class ConfigError extends FerError {
  readonly diagnostics: readonly Diagnostic[];
  /** The texts of the sources the diagnostics point into, for code frames. */
  readonly sources: ReadonlyMap<string, string>;

  constructor(diagnostics: readonly Diagnostic[], sources: ReadonlyMap<string, string> = new Map()) {
    const first = diagnostics[0];
    super(
      first === undefined
        ? 'invalid configuration'
        : `${diagnostics.length} problem${diagnostics.length === 1 ? '' : 's'} in the configuration, first: ${first.message}`,
    );
    this.name = 'ConfigError';
    this.diagnostics = diagnostics;
    this.sources = sources;
  }
}

export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof ConfigError;
}

/** Orders diagnostics by file, then position, so output reads top to bottom. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort((a, b) => {
    const fa = a.span?.file ?? '';
    const fb = b.span?.file ?? '';
    if (fa !== fb) return fa < fb ? -1 : 1;
    const la = a.span?.start.line ?? 0;
    const lb = b.span?.start.line ?? 0;
    if (la !== lb) return la - lb;
    return (a.span?.start.column ?? 0) - (b.span?.start.column ?? 0);
  });
}

/** Drops exact repeats (the same message at the same place), which schema unions tend to produce. */
export function dedupeDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const d of diagnostics) {
    const key = `${d.span?.file}:${d.span?.start.line}:${d.span?.start.column}:${d.code}:${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}
