import path from 'node:path';
import type { Diagnostic, SourceSpan } from './diagnostic.js';
import { sortDiagnostics } from './diagnostic.js';

export interface FormatOptions {
  /** ANSI colours (the CLI turns them on for a TTY). */
  color?: boolean;
  /** Source texts by file name, for code frames; a file missing here is printed without a frame. */
  sources?: ReadonlyMap<string, string>;
  /** File names are shown relative to this folder. */
  cwd?: string;
}

const ansi = {
  red: '\u001b[31m',
  yellow: '\u001b[33m',
  cyan: '\u001b[36m',
  bold: '\u001b[1m',
  dim: '\u001b[2m',
  reset: '\u001b[0m',
};

function paint(text: string, style: keyof typeof ansi, on: boolean): string {
  return on ? `${ansi[style]}${text}${ansi.reset}` : text;
}

/** A file name as the user typed it: relative to the working folder when inside it. */
export function displayFile(file: string, cwd: string = process.cwd()): string {
  if (file.startsWith('<')) return file;
  const rel = path.relative(cwd, file);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}

export function formatLocation(span: SourceSpan, cwd?: string): string {
  return `${displayFile(span.file, cwd)}:${span.start.line}:${span.start.column}`;
}

/** Two lines of context above the offending line and a caret run under the span on it. */
function codeFrame(span: SourceSpan, text: string, color: boolean): string[] {
  const lines = text.split(/\r?\n/);
  const lineIndex = span.start.line - 1;
  if (lineIndex < 0 || lineIndex >= lines.length) return [];
  const first = Math.max(0, lineIndex - 2);
  const width = String(lineIndex + 1).length;
  const out: string[] = [];
  for (let i = first; i <= lineIndex; i++) {
    const number = String(i + 1).padStart(width);
    out.push(`${paint(` ${number} |`, 'dim', color)} ${lines[i]}`);
  }
  const line = lines[lineIndex] ?? '';
  const startCol = Math.max(1, span.start.column);
  const endCol =
    span.end.line === span.start.line ? Math.max(startCol + 1, span.end.column) : Math.max(startCol + 1, line.length + 1);
  const caretCount = Math.max(1, Math.min(endCol, line.length + 1) - startCol);
  // Tabs keep their width so the carets line up under the text above.
  const lead = line.slice(0, startCol - 1).replace(/[^\t]/g, ' ');
  out.push(`${paint(` ${' '.repeat(width)} |`, 'dim', color)} ${lead}${paint('^'.repeat(caretCount), 'red', color)}`);
  return out;
}

export function formatDiagnostic(diagnostic: Diagnostic, options: FormatOptions = {}): string {
  const color = options.color ?? false;
  const severity = paint(`${diagnostic.severity}:`, diagnostic.severity === 'error' ? 'red' : 'yellow', color);
  const where = diagnostic.span ? `${formatLocation(diagnostic.span, options.cwd)}: ` : '';
  const lines = [`${paint(where, 'bold', color)}${severity} ${paint(diagnostic.message, 'bold', color)}`];
  if (diagnostic.path) lines.push(`  ${paint('at', 'dim', color)} ${diagnostic.path}`);
  const text = diagnostic.span ? options.sources?.get(diagnostic.span.file) : undefined;
  if (diagnostic.span && text !== undefined) lines.push(...codeFrame(diagnostic.span, text, color));
  if (diagnostic.expected !== undefined) lines.push(`  ${paint('expected:', 'cyan', color)} ${diagnostic.expected}`);
  if (diagnostic.found !== undefined) lines.push(`  ${paint('found:', 'cyan', color)} ${diagnostic.found}`);
  if (diagnostic.hint !== undefined) lines.push(`  ${paint('help:', 'cyan', color)} ${diagnostic.hint}`);
  for (const note of diagnostic.notes ?? []) {
    const at = note.span ? ` (${formatLocation(note.span, options.cwd)})` : '';
    lines.push(`  ${paint('note:', 'cyan', color)} ${note.message}${at}`);
  }
  return lines.join('\n');
}

/** Every diagnostic, in source order, then a count per file. */
export function formatDiagnostics(diagnostics: readonly Diagnostic[], options: FormatOptions = {}): string {
  const sorted = sortDiagnostics(diagnostics);
  const blocks = sorted.map((d) => formatDiagnostic(d, options));
  const errors = sorted.filter((d) => d.severity === 'error').length;
  const warnings = sorted.length - errors;
  const parts: string[] = [];
  if (errors > 0) parts.push(`${errors} error${errors === 1 ? '' : 's'}`);
  if (warnings > 0) parts.push(`${warnings} warning${warnings === 1 ? '' : 's'}`);
  return `${blocks.join('\n\n')}\n\n${parts.join(', ')}`;
}

/** The JSON form printed by `--json`: plain objects, positions 1-based, files as displayed. */
export function diagnosticToJson(diagnostic: Diagnostic, cwd?: string): Record<string, unknown> {
  const { span, ...rest } = diagnostic;
  return {
    ...rest,
    ...(span
      ? {
          file: displayFile(span.file, cwd),
          line: span.start.line,
          column: span.start.column,
          endLine: span.end.line,
          endColumn: span.end.column,
        }
      : {}),
  };
}
