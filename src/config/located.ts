import type { SourceSpan } from '../core/diagnostic.js';
import type { DocumentPath } from '../core/document-path.js';

/**
 * The configuration as a tree that remembers where every value came from. Includes, environment
 * substitution and `--set` overrides all work on this tree, so an error found after any of them still
 * points at the file, line and column that produced the value.
 */
export type LocatedNode = LocatedScalar | LocatedMap | LocatedList;

interface LocatedBase {
  /** Where the value is written. */
  span: SourceSpan;
  /** Where its key is written, when it is a map entry. */
  keySpan?: SourceSpan;
}

export type ScalarValue = string | number | boolean | null;

export interface LocatedScalar extends LocatedBase {
  kind: 'scalar';
  value: ScalarValue;
  /** Written without quotes: only such scalars take a type from an environment substitution. */
  plain: boolean;
  /** The folder a relative path in this value is relative to (its file's folder, or the working folder). */
  baseDir: string;
}

export interface LocatedMap extends LocatedBase {
  kind: 'map';
  entries: Map<string, LocatedNode>;
}

export interface LocatedList extends LocatedBase {
  kind: 'list';
  items: LocatedNode[];
}

export type PlainValue = ScalarValue | PlainValue[] | { [key: string]: PlainValue };

export function toPlain(node: LocatedNode): PlainValue {
  switch (node.kind) {
    case 'scalar':
      return node.value;
    case 'list':
      return node.items.map(toPlain);
    case 'map': {
      const out: { [key: string]: PlainValue } = {};
      for (const [key, value] of node.entries) out[key] = toPlain(value);
      return out;
    }
  }
}

/** A scalar with no source of its own (a default filled in later), placed at `span`. */
export function syntheticScalar(value: ScalarValue, span: SourceSpan, baseDir: string): LocatedScalar {
  return { kind: 'scalar', value, plain: true, span, baseDir };
}

export function nodeAt(root: LocatedNode, path: DocumentPath): LocatedNode | undefined {
  let node: LocatedNode | undefined = root;
  for (const segment of path) {
    if (node === undefined) return undefined;
    if (node.kind === 'map') node = node.entries.get(String(segment));
    else if (node.kind === 'list') node = typeof segment === 'number' ? node.items[segment] : undefined;
    else return undefined;
  }
  return node;
}

export interface Located {
  span: SourceSpan;
  keySpan?: SourceSpan;
  /** How many trailing path segments had to be dropped to find a node with a position. */
  missing: number;
  node: LocatedNode;
}

/**
 * The position of `path`, or of its nearest ancestor that has one (values filled in by defaults
 * have no text of their own; the enclosing map is the best place to point at).
 */
export function locate(root: LocatedNode, path: DocumentPath): Located {
  for (let cut = 0; cut <= path.length; cut++) {
    const node = nodeAt(root, path.slice(0, path.length - cut));
    if (node !== undefined) {
      return { span: node.span, ...(node.keySpan ? { keySpan: node.keySpan } : {}), missing: cut, node };
    }
  }
  return { span: root.span, missing: path.length, node: root };
}

/** Builds a located tree for a value that has no text (for example a default), all of it at `span`. */
export function fromPlain(value: PlainValue, span: SourceSpan, baseDir: string): LocatedNode {
  if (Array.isArray(value)) return { kind: 'list', span, items: value.map((v) => fromPlain(v, span, baseDir)) };
  if (value !== null && typeof value === 'object') {
    const entries = new Map<string, LocatedNode>();
    for (const [k, v] of Object.entries(value)) entries.set(k, { ...fromPlain(v, span, baseDir), keySpan: span });
    return { kind: 'map', span, entries };
  }
  return syntheticScalar(value, span, baseDir);
}

/**
 * A located tree as plain JSON (map entries as [key, node] pairs, in order), so the positions of a
 * config can cross a process boundary with it: a worker places its errors where the parent would.
 */
export type LocatedJson =
  | (Omit<LocatedScalar, 'value'> & { value: ScalarValue })
  | (Omit<LocatedMap, 'entries'> & { entries: [string, LocatedJson][] })
  | (Omit<LocatedList, 'items'> & { items: LocatedJson[] });

export function locatedToJson(node: LocatedNode): LocatedJson {
  switch (node.kind) {
    case 'scalar':
      return node;
    case 'list':
      return { ...node, items: node.items.map(locatedToJson) };
    case 'map':
      return { ...node, entries: [...node.entries].map(([key, value]) => [key, locatedToJson(value)]) };
  }
}

export function locatedFromJson(json: LocatedJson): LocatedNode {
  switch (json.kind) {
    case 'scalar':
      return json;
    case 'list':
      return { ...json, items: json.items.map(locatedFromJson) };
    case 'map':
      return { ...json, entries: new Map(json.entries.map(([key, value]) => [key, locatedFromJson(value)])) };
  }
}
