import type { Diagnostic, DiagnosticNote } from '../core/diagnostic.js';
import { displayPath, type DocumentPath } from '../core/document-path.js';
import type { Locator } from '../schema/errors.js';
import { evaluateDeep, type Scope, type Value } from './expression.js';

/**
 * A value inside a template that is wrong because of an argument is the user's mistake, not the
 * template's: its error belongs where the argument is written, with the template's line as a note.
 * This module follows a template parameter back to that argument, through templates that pass it on.
 */

/** Where the argument that set a template parameter is written. */
export interface ArgumentOrigin {
  /** The argument's value, where it is written as a value (not passed on from an outer template's parameter). */
  path: DocumentPath;
  /** The template uses that led to where it is written, innermost first (none in a model's own layers). */
  notes: readonly DiagnosticNote[];
  /** The templates that handed it on before it reached this parameter, innermost first. */
  passedOn: readonly DiagnosticNote[];
}

/** The origin of each parameter of one template instance that was given as an argument (defaults have none). */
export type ArgumentOrigins = ReadonlyMap<string, ArgumentOrigin>;

/** Errors about a key itself (unknown, missing) are the template's, whatever its value. */
const KEY_CODES: ReadonlySet<Diagnostic['code']> = new Set(['unknown-key', 'unknown-layer', 'missing-key']);

/** A layer's arguments that decide the size of its output, in the order they are blamed for an empty output. */
export const SIZE_ARGS = ['kernel_size', 'pool_size', 'strides', 'dilation_rate', 'padding', 'cropping'] as const;

const WHOLE_NAME = /^\$[A-Za-z_][A-Za-z0-9_]*$/;

function isMapOrList(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null;
}

/**
 * The value written at `path` in the config as written (`$...` strings unevaluated), and the
 * segments of `path` below it that only exist once an expression is evaluated.
 */
export function writtenAt(root: unknown, path: DocumentPath): { written: unknown; below: DocumentPath } {
  let current = root;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    if (!isMapOrList(current) || !(String(segment) in current)) return { written: current, below: path.slice(i) };
    current = (current as Record<string, unknown>)[String(segment)];
  }
  return { written: current, below: [] };
}

/** The names an expression reads when evaluated in `scope`, in order, and its value (undefined when it fails). */
function namesRead(written: string, scope: Scope): { names: string[]; value?: Value } {
  const names: string[] = [];
  const recording: Scope = {
    lookup: (name) => {
      if (!names.includes(name)) names.push(name);
      return scope.lookup(name);
    },
    names: () => scope.names(),
  };
  try {
    return { names, value: evaluateDeep(written, recording) };
  } catch {
    // A failing expression still names what it read before it failed.
    return { names };
  }
}

/**
 * The argument behind a value written as an expression: of the parameters it reads that were given
 * as arguments, the one whose value it is (`$(cond ? "linear" : activation)` gives `activation`'s
 * value), else the first read. Undefined when the value reads no argument.
 */
export function argumentBehind(written: unknown, scope: Scope, origins: ArgumentOrigins): { name: string; origin: ArgumentOrigin } | undefined {
  if (origins.size === 0 || typeof written !== 'string') return undefined;
  const { names, value } = namesRead(written, scope);
  const given = names.filter((name) => origins.has(name));
  const same = value === undefined ? undefined : given.find((name) => JSON.stringify(scope.lookup(name)) === JSON.stringify(value));
  const name = same ?? given[0];
  return name === undefined ? undefined : { name, origin: origins.get(name)! };
}

/** Where a value below `$name` is, inside the argument `name` came from: `$filters` failing at [1] is the argument's item [1]. */
export function originPath(written: unknown, origin: ArgumentOrigin, below: DocumentPath): DocumentPath {
  return typeof written === 'string' && WHOLE_NAME.test(written) ? [...origin.path, ...below] : origin.path;
}

/**
 * `d` moved to the argument behind it: the argument's position, then notes saying where the
 * template uses it (`usedAt`), how it was handed on, and the template uses around the argument.
 * `frameNotes` are the template-use notes `d` carries, which the new notes replace.
 */
export function movedToArgument(
  locate: Locator,
  d: Diagnostic,
  at: DocumentPath,
  origin: ArgumentOrigin,
  usedAt: DiagnosticNote,
  frameNotes: readonly DiagnosticNote[],
): Diagnostic {
  if (KEY_CODES.has(d.code)) return d;
  const own = (d.notes ?? []).filter((note) => !frameNotes.includes(note));
  const notes = [...own, usedAt, ...origin.passedOn, ...origin.notes];
  return { ...d, span: locate(at).span, path: displayPath(at), notes };
}
