import type { Diagnostic, DiagnosticNote } from '../core/diagnostic.js';
import { displayPath, type DocumentPath } from '../core/document-path.js';
import type { Locator } from '../schema/errors.js';

/**
 * An error found while compiling, placed at the YAML that caused it: the value at `path` (or its
 * key, `onKey`, when the key is what is wrong), with the notes that say which template use led there.
 */
export function diagnosticAt(locate: Locator, d: Omit<Diagnostic, 'severity' | 'span' | 'path'>, path: DocumentPath, notes: readonly DiagnosticNote[] = [], onKey = false): Diagnostic {
  const p = locate(path);
  const span = onKey && p.missing === 0 ? (p.keySpan ?? p.span) : p.span;
  const allNotes = [...(d.notes ?? []), ...notes];
  return { severity: 'error', ...d, span, path: displayPath(path), ...(allNotes.length > 0 ? { notes: allNotes } : {}) };
}
