import type { PathSegment } from '../core/document-path.js';
import { displayPath } from '../core/document-path.js';
import type { PlainValue } from '../config/located.js';

/**
 * A search space as samplers see it: a flat list of dimensions, each either categorical (an index
 * into its options) or numeric, some active only when a categorical parent took one option (the
 * conditional spaces a `choice` of maps declares). An assignment gives every active dimension a
 * number: the option's index for a categorical one, the value for a numeric one.
 */
export type Distribution =
  | { kind: 'choice'; options: ChoiceOption[] }
  | { kind: 'grid'; options: ChoiceOption[] }
  | { kind: 'uniform'; low: number; high: number }
  | { kind: 'loguniform'; low: number; high: number }
  | { kind: 'int'; low: number; high: number; step: number };

export interface ChoiceOption {
  /** The value as written; inside it, nested distributions sit where `nested[i].within` says. */
  value: PlainValue;
  /** How the option is shown: a map's single key (`sgd`), else the value as YAML-ish text. */
  label: string;
}

export interface Dimension {
  /** The dotted name the trial's params and MLflow show: the config path, nested ones under their option's label. */
  name: string;
  /** Top-level: the config path. Nested: the path inside the parent option's value. */
  path: PathSegment[];
  dist: Distribution;
  /** Active only when dimension `parent` (an index into the space) took option `option`. */
  condition?: { parent: number; option: number };
}

export interface SearchSpace {
  dimensions: Dimension[];
}

/** Per dimension name, a number: an option index (choice, grid) or a value. Inactive dimensions are absent. */
export type Assignment = Record<string, number>;

export function isCategorical(dist: Distribution): dist is Extract<Distribution, { options: ChoiceOption[] }> {
  return dist.kind === 'choice' || dist.kind === 'grid';
}

/** Whether dimension `i` takes part under `assignment` (its parent chain took the options it hangs from). */
export function isActive(space: SearchSpace, i: number, assignment: Assignment): boolean {
  const condition = space.dimensions[i]!.condition;
  if (!condition) return true;
  const parent = space.dimensions[condition.parent]!;
  return assignment[parent.name] === condition.option && isActive(space, condition.parent, assignment);
}

/** The value a dimension's option or number stands for, nested distributions filled in from `assignment`. */
export function valueOf(space: SearchSpace, i: number, assignment: Assignment): PlainValue {
  const dim = space.dimensions[i]!;
  const x = assignment[dim.name]!;
  if (!isCategorical(dim.dist)) return x;
  let value = structuredClone(dim.dist.options[x]!.value);
  space.dimensions.forEach((child, j) => {
    if (child.condition?.parent !== i || child.condition.option !== x) return;
    value = setIn(value, child.path, valueOf(space, j, assignment));
  });
  return value;
}

function setIn(root: PlainValue, path: readonly PathSegment[], value: PlainValue): PlainValue {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [PathSegment, ...PathSegment[]];
  const container = root as Record<string, PlainValue> | PlainValue[];
  (container as Record<string | number, PlainValue>)[head] = setIn((container as Record<string | number, PlainValue>)[head]!, rest, value);
  return root;
}

/** `--set` overrides that put an assignment into a config: one per top-level dimension. */
export function overridesOf(space: SearchSpace, assignment: Assignment): string[] {
  const out: string[] = [];
  space.dimensions.forEach((dim, i) => {
    if (dim.condition) return;
    out.push(`${displayPath(dim.path)}=${JSON.stringify(valueOf(space, i, assignment))}`);
  });
  return out;
}

function isMap(value: PlainValue): value is { [key: string]: PlainValue } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The params a trial reports: each active dimension by name, map options by their key. */
export function paramsOf(space: SearchSpace, assignment: Assignment): Record<string, PlainValue> {
  const out: Record<string, PlainValue> = {};
  space.dimensions.forEach((dim, i) => {
    if (!isActive(space, i, assignment)) return;
    const x = assignment[dim.name]!;
    if (!isCategorical(dim.dist)) out[dim.name] = x;
    else {
      // A map option shows as its key (`sgd`: its own values are params of their own), anything else as its value.
      const option = dim.dist.options[x]!;
      out[dim.name] = isMap(option.value) && Object.keys(option.value).length === 1 ? option.label : option.value;
    }
  });
  return out;
}

/** The number of distinct assignments when every dimension is finite, else undefined. */
export function gridSize(space: SearchSpace): number | undefined {
  const count = (parent: number | undefined, option: number | undefined): number | undefined => {
    let total = 1;
    for (const [i, dim] of space.dimensions.entries()) {
      const c = dim.condition;
      if (parent === undefined ? c !== undefined : c?.parent !== parent || c.option !== option) continue;
      const size = dimensionSize(dim.dist, (o) => count(i, o));
      if (size === undefined) return undefined;
      total *= size;
    }
    return total;
  };
  return count(undefined, undefined);
}

function dimensionSize(dist: Distribution, nested: (option: number) => number | undefined): number | undefined {
  if (isCategorical(dist)) {
    let sum = 0;
    for (let o = 0; o < dist.options.length; o++) {
      const n = nested(o);
      if (n === undefined) return undefined;
      sum += n;
    }
    return sum;
  }
  if (dist.kind === 'int') return Math.floor((dist.high - dist.low) / dist.step) + 1;
  return undefined;
}

/** Every assignment of a finite space, in a fixed order (the first dimension varies slowest). */
export function enumerateGrid(space: SearchSpace): Assignment[] {
  const expand = (dims: number[], base: Assignment): Assignment[] => {
    if (dims.length === 0) return [base];
    const [i, ...rest] = dims as [number, ...number[]];
    const dim = space.dimensions[i]!;
    const values: number[] = [];
    if (isCategorical(dim.dist)) for (let o = 0; o < dim.dist.options.length; o++) values.push(o);
    else if (dim.dist.kind === 'int') for (let v = dim.dist.low; v <= dim.dist.high; v += dim.dist.step) values.push(v);
    else throw new Error(`${dim.name} is continuous: a grid needs choice, grid or int parameters`);
    return values.flatMap((v) => {
      const children = space.dimensions.flatMap((d, j) => (d.condition?.parent === i && d.condition.option === v ? [j] : []));
      return expand([...children, ...rest], { ...base, [dim.name]: v });
    });
  };
  return expand(
    space.dimensions.flatMap((d, i) => (d.condition ? [] : [i])),
    {},
  );
}

/** A short text of a distribution, for --dry-run and the report. */
export function describeDistribution(dist: Distribution): string {
  switch (dist.kind) {
    case 'choice':
    case 'grid':
      return `${dist.kind} of ${dist.options.map((o) => o.label).join(' | ')}`;
    case 'uniform':
    case 'loguniform':
      return `${dist.kind} [${dist.low}, ${dist.high}]`;
    case 'int':
      return `int [${dist.low}, ${dist.high}]${dist.step !== 1 ? ` step ${dist.step}` : ''}`;
  }
}
