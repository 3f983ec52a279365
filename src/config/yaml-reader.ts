import path from 'node:path';
import { LineCounter, parseAllDocuments, isAlias, isMap, isScalar, isSeq, visit, type Document, type Node, type YAMLError } from 'yaml';
import type { Diagnostic, SourcePoint, SourceSpan } from '../core/diagnostic.js';
import type { LocatedMap, LocatedNode } from './located.js';

export interface YamlReadResult {
  /** Undefined for an empty file or one whose syntax errors left nothing usable. */
  root: LocatedNode | undefined;
  diagnostics: Diagnostic[];
}

export interface YamlReadOptions {
  /** Positions are shifted by this much: `--set` values are parsed on their own but reported in place. */
  line?: number;
  column?: number;
  /** Relative paths in values are relative to this folder (default: the file's folder). */
  baseDir?: string;
}

/**
 * How many values aliases may add to a config once expanded. A real config repeats a few blocks;
 * nested aliases ("billion laughs") grow exponentially and would exhaust memory long before this.
 */
export const MAX_ALIAS_VALUES = 100_000;

/**
 * Repeated keys, found with one set per map. yaml's own check (`uniqueKeys`) compares every key
 * with all the keys before it, which takes minutes on a map of 100,000 keys; this is linear.
 */
function repeatedKeys(doc: Document.Parsed): YAMLError[] {
  const found: YAMLError[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const value = pair.key.value;
        if (seen.has(value)) {
          const at = pair.key.range?.[0] ?? 0;
          found.push({ name: 'YAMLParseError', code: 'DUPLICATE_KEY', message: 'Map keys must be unique', pos: [at, at + 1] } as YAMLError);
        }
        seen.add(value);
      }
    },
  });
  return found;
}

/** yaml's messages sometimes carry their own position and frame; ours print those separately. */
function cleanMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '');
}

/** Advice for the syntax mistakes people make most in configs. */
function syntaxHint(code: string, line: string, next: string): { hint?: string } {
  const bare = /^\s*-\s+([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(line);
  if (bare && /^\s+[A-Za-z_]+:/.test(next)) {
    return { hint: `a bare layer name cannot have keys under it: write \`- ${bare[1]}: {}\` and keep the keys below it` };
  }
  if (/\$\(/.test(line) && !/["']\$\(/.test(line)) {
    return {
      hint: 'an expression holding `: `, `,`, `[` or `{` must be quoted in YAML, e.g. strides: "$(index == 0 ? 2 : 1)"',
    };
  }
  switch (code) {
    case 'DUPLICATE_KEY':
      return { hint: 'each key may appear once in a map; remove or rename one of them' };
    case 'TAB_AS_INDENT':
      return { hint: 'indent with spaces, not tabs' };
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
      return { hint: 'check the indentation and the closing `]`, `}` or quote of the value above' };
    case 'BLOCK_AS_IMPLICIT_KEY':
    case 'MULTILINE_IMPLICIT_KEY':
      return { hint: 'items of one list must start in the same column' };
    default:
      return {};
  }
}

/**
 * Reads YAML text into a located tree. Every syntax error of the text is reported, not only the
 * first (yaml recovers and keeps going), with its position.
 */
export function readYaml(text: string, file: string, options: YamlReadOptions = {}): YamlReadResult {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, merge: true, prettyErrors: false, uniqueKeys: false });
  const lineShift = options.line ?? 0;
  const columnShift = options.column ?? 0;
  const baseDir = options.baseDir ?? (file.startsWith('<') ? process.cwd() : path.dirname(file));

  const point = (offset: number): SourcePoint => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line + lineShift, column: pos.col + (pos.line === 1 ? columnShift : 0) };
  };
  const span = (start: number, end: number): SourceSpan => ({ file, start: point(start), end: point(end) });

  const diagnostics: Diagnostic[] = [];
  const docs: Document.Parsed[] = Array.isArray(documents) ? documents : [documents];
  const lines = text.split(/\r?\n/);
  for (const doc of docs) {
    // yaml recovers from an error by reading on, and one broken bracket or indent then yields a
    // run of errors that all stem from it. Root causes (a tab, a repeated key) are kept first; any
    // other error within a line of one already kept is taken for a consequence and dropped.
    const rootCause = (code: string) => code === 'TAB_AS_INDENT' || code === 'DUPLICATE_KEY';
    const ordered = [...doc.errors, ...repeatedKeys(doc), ...doc.warnings].sort(
      (a, b) => Number(!rootCause(a.code)) - Number(!rootCause(b.code)) || a.pos[0] - b.pos[0],
    );
    const keptLines: number[] = [];
    for (const error of ordered) {
      const at = span(error.pos[0], Math.max(error.pos[1], error.pos[0] + 1));
      const line = at.start.line;
      if (keptLines.some((kept) => Math.abs(kept - line) <= (rootCause(error.code) ? 0 : 1))) continue;
      keptLines.push(line);
      const sourceLine = lines[line - 1 - lineShift] ?? '';
      const nextLine = lines[line - lineShift] ?? '';
      diagnostics.push({
        severity: error.name === 'YAMLWarning' ? 'warning' : 'error',
        code: 'yaml-syntax',
        message: `YAML syntax: ${cleanMessage(error.message)}`,
        span: at,
        ...syntaxHint(error.code, sourceLine, nextLine),
      });
    }
  }
  const syntaxBroken = diagnostics.length > 0;
  if (docs.length > 1) {
    const second = docs[1]!;
    diagnostics.push({
      severity: 'error',
      code: 'yaml-syntax',
      message: 'a configuration file holds one YAML document, this one holds several (separated by `---`)',
      span: span(second.range[0], second.range[0] + 3),
      hint: 'use `extends:` to compose files instead of several documents in one',
    });
  }
  const first = docs[0];
  if (first === undefined || first.contents === null) return { root: undefined, diagnostics };

  // Aliases are expanded here, so here is where their expansion is bounded: values added by the
  // outermost alias being expanded are counted, and past the cap the document is refused at it.
  let aliasValues = 0;
  let expanding: { start: number; end: number } | undefined;
  let aliasesRefused = false;
  const convert = (node: Node | null, at: number): LocatedNode => {
    if (expanding !== undefined && !aliasesRefused && ++aliasValues > MAX_ALIAS_VALUES) {
      aliasesRefused = true;
      diagnostics.push({
        severity: 'error',
        code: 'yaml-aliases',
        message: `YAML aliases expand to more than ${MAX_ALIAS_VALUES.toLocaleString('en-US')} values here (aliases nested in aliases grow exponentially)`,
        span: span(expanding.start, expanding.end),
        hint: 'write the repeated block out, or use a template (`use:`) for repeated layers',
      });
    }
    if (node === null || aliasesRefused) return { kind: 'scalar', value: null, plain: true, span: span(at, at), baseDir };
    if (isAlias(node)) {
      const target = node.resolve(first);
      if (!target) return convert(null, at);
      const outermost = expanding === undefined;
      const start = node.range?.[0] ?? at;
      if (outermost) expanding = { start, end: node.range?.[1] ?? start + 1 };
      try {
        return convert(target, start);
      } finally {
        if (outermost) expanding = undefined;
      }
    }
    const range = node.range ?? [at, at, at];
    const nodeSpan = span(range[0], range[1]);
    if (isScalar(node)) {
      const raw = node.value;
      const value =
        raw === null || typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean'
          ? raw
          : typeof raw === 'bigint'
            ? Number(raw)
            : String(raw);
      return { kind: 'scalar', value, plain: node.type === 'PLAIN', span: nodeSpan, baseDir };
    }
    if (isSeq(node)) {
      return {
        kind: 'list',
        span: nodeSpan,
        items: node.items.map((item) => convert(item as Node | null, range[0])),
      };
    }
    if (isMap(node)) {
      const map: LocatedMap = { kind: 'map', span: nodeSpan, entries: new Map() };
      const merged: LocatedNode[] = [];
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        if (isScalar(keyNode) && typeof keyNode.value === 'symbol') {
          // `<<: *anchor` (YAML merge key): the anchored maps' entries, unless set here.
          const value = convert(pair.value as Node | null, keyNode.range?.[0] ?? range[0]);
          merged.push(...(value.kind === 'list' ? value.items : [value]));
          continue;
        }
        if (!isScalar(keyNode)) {
          const at = keyNode?.range?.[0] ?? range[0];
          // After a syntax error this is only its echo (a misplaced list read as a key).
          if (!syntaxBroken) diagnostics.push({
            severity: 'error',
            code: 'yaml-syntax',
            message: 'map keys must be plain words, not lists or maps',
            span: span(at, keyNode?.range?.[1] ?? at + 1),
          });
          continue;
        }
        const key = String(keyNode.value);
        const keyRange = keyNode.range ?? [range[0], range[0], range[0]];
        const valueNode = pair.value as Node | null;
        const value = convert(valueNode, keyRange[1]);
        map.entries.set(key, { ...value, keySpan: span(keyRange[0], keyRange[1]) });
      }
      for (const source of merged) {
        if (source.kind !== 'map') continue;
        for (const [key, value] of source.entries) if (!map.entries.has(key)) map.entries.set(key, value);
      }
      return map;
    }
    return convert(null, at);
  };

  return { root: convert(first.contents as Node, 0), diagnostics };
}
