import type { Diagnostic, SourceSpan } from '../core/diagnostic.js';
import { didYouMean } from '../core/suggest.js';
import { displayPath, type PathSegment } from '../core/document-path.js';
import type { LocatedList, LocatedMap, LocatedNode } from './located.js';
import { readYaml } from './yaml-reader.js';

/**
 * Command-line overrides, Hydra style but with one operator each:
 *   `--set training.epochs=5`                  set a value (created when missing), typed as YAML
 *   `--set models.cnn.layers[3].conv2d.filters=64`
 *   `--set 'ensemble.members=[{model: cnn, count: 2}]'`   any YAML flow value
 *   `--set ~tracking`                          remove a key (or a list item)
 * They are applied after `extends`, so they win over every file.
 */
export const COMMAND_LINE = '<command line>';

/** The text the `<command line>` source shows in code frames: one override per line. */
export function commandLineText(overrides: readonly string[]): string {
  return overrides.join('\n');
}

interface ParsedOverride {
  remove: boolean;
  path: PathSegment[];
  valueText: string;
  /** 0-based column where the value starts in the override text. */
  valueColumn: number;
}

function spanOf(line: number, start: number, end: number): SourceSpan {
  return { file: COMMAND_LINE, start: { line, column: start + 1 }, end: { line, column: Math.max(start + 2, end + 1) } };
}

function parseOverride(text: string, line: number, diagnostics: Diagnostic[]): ParsedOverride | undefined {
  const remove = text.startsWith('~');
  const eq = remove ? -1 : text.indexOf('=');
  if (!remove && eq < 0) {
    diagnostics.push({
      severity: 'error',
      code: 'override-syntax',
      message: `\`--set ${text}\` has no \`=\``,
      span: spanOf(line, 0, text.length),
      expected: '`--set path.to.key=value` (or `--set ~path.to.key` to remove a key)',
    });
    return undefined;
  }
  const pathText = remove ? text.slice(1) : text.slice(0, eq);
  const offset = remove ? 1 : 0;
  const path: PathSegment[] = [];
  const token = /([A-Za-z0-9_\-/$]+)|\[(\d+)\]|(\.)/gy;
  let expectKey = true;
  let pos = 0;
  while (pos < pathText.length) {
    token.lastIndex = pos;
    const m = token.exec(pathText);
    if (m === null || (m[3] !== undefined && expectKey)) {
      diagnostics.push({
        severity: 'error',
        code: 'override-syntax',
        message: `cannot read the path \`${pathText}\` in \`--set ${text}\``,
        span: spanOf(line, offset + pos, offset + pos + 1),
        expected: 'keys separated by dots, list items as [n]: `models.cnn.layers[3].conv2d.filters`',
      });
      return undefined;
    }
    if (m[1] !== undefined) {
      path.push(m[1]);
      expectKey = false;
    } else if (m[2] !== undefined) {
      path.push(Number(m[2]));
      expectKey = false;
    } else expectKey = true;
    pos = token.lastIndex;
  }
  if (path.length === 0 || expectKey) {
    diagnostics.push({
      severity: 'error',
      code: 'override-syntax',
      message: `\`--set ${text}\` names no key`,
      span: spanOf(line, 0, Math.max(1, pathText.length)),
      expected: '`--set path.to.key=value`',
    });
    return undefined;
  }
  return { remove, path, valueText: remove ? '' : text.slice(eq + 1), valueColumn: eq + 1 };
}

function describe(node: LocatedNode): string {
  if (node.kind === 'map') return 'a map';
  if (node.kind === 'list') return `a list of ${node.items.length}`;
  return `the value ${JSON.stringify(node.value)}`;
}

/** Applies the overrides in order; an override that cannot apply is reported and skipped. */
export function applyOverrides(root: LocatedNode, overrides: readonly string[], diagnostics: Diagnostic[]): LocatedNode {
  let result = root;
  overrides.forEach((text, index) => {
    const line = index + 1;
    const parsed = parseOverride(text, line, diagnostics);
    if (parsed === undefined) return;
    const whole = spanOf(line, 0, text.length);
    let value: LocatedNode | undefined;
    if (!parsed.remove) {
      if (parsed.valueText.trim() === '') {
        value = { kind: 'scalar', value: '', plain: false, span: spanOf(line, parsed.valueColumn, parsed.valueColumn), baseDir: process.cwd() };
      } else {
        const read = readYaml(parsed.valueText, COMMAND_LINE, { line: index, column: parsed.valueColumn, baseDir: process.cwd() });
        diagnostics.push(...read.diagnostics);
        if (read.root === undefined || read.diagnostics.some((d) => d.severity === 'error')) return;
        value = read.root;
      }
      value = { ...value, keySpan: whole };
    }
    const next = setAt(result, parsed.path, value, whole, text, diagnostics);
    if (next !== undefined) result = next;
  });
  return result;
}

/** Returns a new tree with `value` at `path` (removed when undefined), or undefined after a diagnostic. */
function setAt(
  node: LocatedNode,
  path: readonly PathSegment[],
  value: LocatedNode | undefined,
  span: SourceSpan,
  text: string,
  diagnostics: Diagnostic[],
  done: PathSegment[] = [],
): LocatedNode | undefined {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  const fail = (message: string, hint?: string): undefined => {
    diagnostics.push({
      severity: 'error',
      code: 'override-path',
      message: `\`--set ${text}\`: ${message}`,
      span,
      path: displayPath(done),
      ...(hint ? { hint } : {}),
    });
    return undefined;
  };
  const here = [...done, head];
  if (node.kind === 'scalar' && node.value === null && value !== undefined) {
    // An empty section (`tracking:`) takes keys like an empty map.
    node = { kind: 'map', span: node.span, ...(node.keySpan ? { keySpan: node.keySpan } : {}), entries: new Map() };
  }
  if (node.kind === 'map') {
    if (typeof head === 'number') return fail(`${displayPath(done)} is a map, not a list: use a key, not [${head}]`);
    const current = node.entries.get(head);
    if (current === undefined) {
      if (value === undefined) {
        return fail(`there is no \`${head}\` to remove in ${displayPath(done)}`, didYouMean(head, node.entries.keys()));
      }
      if (rest.length > 0 && typeof rest[0] === 'number') {
        return fail(`${displayPath(here)} does not exist, so it has no item [${rest[0]}]`, didYouMean(head, node.entries.keys()));
      }
    }
    const base: LocatedNode = current ?? { kind: 'map', span, keySpan: span, entries: new Map() };
    const updated = rest.length === 0 ? value : setAt(base, rest, value, span, text, diagnostics, here);
    if (rest.length > 0 && updated === undefined) return undefined;
    const entries = new Map(node.entries);
    if (updated === undefined) entries.delete(head);
    else entries.set(head, { ...updated, keySpan: updated.keySpan ?? current?.keySpan ?? span });
    return { ...node, entries } satisfies LocatedMap;
  }
  if (node.kind === 'list') {
    if (typeof head !== 'number') return fail(`${displayPath(done)} is a list: use an index like [0], not \`${head}\``);
    const limit = value === undefined || rest.length > 0 ? node.items.length - 1 : node.items.length;
    if (head > limit) return fail(`${displayPath(done)} has ${node.items.length} item(s), so [${head}] is out of range`);
    const current = node.items[head];
    const updated = rest.length === 0 ? value : current && setAt(current, rest, value, span, text, diagnostics, here);
    if (rest.length > 0 && updated === undefined) return undefined;
    const items = [...node.items];
    if (updated === undefined) items.splice(head, 1);
    else items[head] = updated;
    return { ...node, items } satisfies LocatedList;
  }
  return fail(`${displayPath(done)} is ${describe(node)}, so it has no \`${String(head)}\``);
}
