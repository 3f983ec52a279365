import path from 'node:path';
import type { DocumentPath } from '../core/document-path.js';
import { locate, type LocatedNode } from './located.js';

/** Where a value of the resolved config came from: `file:line` as written, `--set`, or the registry's default. */
export interface Origin {
  path: string;
  value: unknown;
  from: string;
}

/**
 * Every leaf of a resolved config with where it came from: the file and line its value is written
 * at (after extends, environment and --set: the tree keeps each value's place), or `default` when
 * normalisation filled it in. Lists of scalars are one leaf.
 */
export function configOrigins(config: unknown, tree: LocatedNode, cwd = process.cwd()): Origin[] {
  const out: Origin[] = [];
  const where = (at: DocumentPath, value: unknown): string => {
    const found = locate(tree, at);
    const node = found.missing === 0 || fromShorthand(found.node, value) ? found.node : undefined;
    if (!node) return 'default';
    const file = node.span.file;
    if (file === '<command line>') return '--set';
    const shown = path.isAbsolute(file) ? path.relative(cwd, file) || file : file;
    return `${shown}:${node.span.start.line}`;
  };
  const walk = (value: unknown, at: DocumentPath): void => {
    const isScalarList = Array.isArray(value) && value.every((v) => v === null || typeof v !== 'object');
    if (value !== null && typeof value === 'object' && !isScalarList && (Array.isArray(value) ? value.length > 0 : Object.keys(value).length > 0)) {
      if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...at, i]));
      else for (const [k, v] of Object.entries(value)) walk(v, [...at, k]);
      return;
    }
    out.push({ path: formatPath(at), value, from: where(at, value) });
  };
  walk(config, []);
  return out;
}

function formatPath(at: DocumentPath): string {
  return at.map((s, i) => (typeof s === 'number' ? `[${s}]` : `${i > 0 ? '.' : ''}${s}`)).join('');
}

/**
 * A value written as a shorthand (`csv: data.csv` for {csv: {path: data.csv}}) comes from where the
 * shorthand is written: the scalar holds the value itself (a path, resolved against its file's folder).
 */
function fromShorthand(node: LocatedNode, value: unknown): boolean {
  if (node.kind !== 'scalar') return false;
  if (node.value === value) return true;
  return typeof node.value === 'string' && typeof value === 'string' && path.resolve(node.baseDir, node.value) === value;
}
