import type { Diagnostic, SourceSpan } from '../core/diagnostic.js';
import { displayPath, type PathSegment } from '../core/document-path.js';
import { closestMatches, listChoices } from '../core/suggest.js';
import { nodeAt, toPlain, type LocatedMap, type LocatedNode, type PlainValue } from '../config/located.js';
import type { ChoiceOption, Dimension, Distribution, SearchSpace } from './space.js';

/**
 * The `sweep:` section of an experiment, read from the located tree so every problem names its
 * file, line and column. The schema only checks its outline (document.ts); the distributions,
 * their ranges and the parameter paths are checked here, where the resolved config is known.
 */
export const OBJECTIVE_METRICS = { accuracy: 'maximize', macro_f1: 'maximize', loss: 'minimize', log_loss: 'minimize' } as const;
export type ObjectiveMetric = keyof typeof OBJECTIVE_METRICS;
export const OBJECTIVE_SPLITS = ['validation', 'oof'] as const;
export const SEARCH_METHODS = ['grid', 'random', 'tpe'] as const;
export const PRUNING_METHODS = ['none', 'asha', 'median'] as const;
const DISTRIBUTIONS = ['choice', 'grid', 'uniform', 'loguniform', 'int'] as const;

export interface SweepSpec {
  space: SearchSpace;
  objective: { metric: ObjectiveMetric; split: (typeof OBJECTIVE_SPLITS)[number]; direction: 'maximize' | 'minimize' };
  search: { method: (typeof SEARCH_METHODS)[number]; seed: number; startupTrials: number; gamma: number; candidates: number };
  pruning: { method: (typeof PRUNING_METHODS)[number]; minEpochs: number; reductionFactor: number; startupTrials: number };
  budget: { trials?: number; minutes?: number; workers?: number };
}

interface Reader {
  diagnostics: Diagnostic[];
  error(node: LocatedNode | undefined, path: PathSegment[], message: string, extra?: Partial<Diagnostic>): void;
}

function spanOf(node: LocatedNode | undefined, fallback: SourceSpan): SourceSpan {
  return node?.keySpan ?? node?.span ?? fallback;
}

/** Reads the sweep section; `configPaths` are the dotted paths of the resolved config (for did-you-mean). */
export function readSweepSpec(tree: LocatedNode, configSeed: number, knownPath: (path: PathSegment[]) => boolean, configPaths: () => string[]): { spec?: SweepSpec; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const sweep = nodeAt(tree, ['sweep']);
  const fallback = tree.span;
  const reader: Reader = {
    diagnostics,
    error: (node, path, message, extra = {}) => diagnostics.push({ severity: 'error', code: 'schema', message, span: node?.span ?? fallback, path: displayPath(path), ...extra }),
  };
  if (sweep === undefined || sweep.kind !== 'map') {
    diagnostics.push({
      severity: 'error',
      code: 'missing-key',
      message: 'this config has no `sweep:` section: fer sweep needs one (parameters, objective, search, budget)',
      span: fallback,
      hint: 'add a sweep: section, or write a file that extends this one and has it (see docs/sweeps.md)',
    });
    return { diagnostics };
  }
  const space = readParameters(sweep.entries.get('parameters'), reader, knownPath, configPaths);
  const objective = readObjective(sweep.entries.get('objective'), reader, sweep);
  const search = readSearch(sweep.entries.get('search'), reader, configSeed);
  const pruning = readPruning(sweep.entries.get('pruning'), reader);
  const budget = readBudget(sweep.entries.get('budget'), reader);
  if (search && space && search.method === 'grid') {
    const continuous = space.dimensions.find((d) => d.dist.kind === 'uniform' || d.dist.kind === 'loguniform');
    if (continuous) {
      reader.error(nodeAt(sweep, ['parameters']), ['sweep', 'parameters', continuous.name], `grid search needs finite parameters, and \`${continuous.name}\` is ${continuous.dist.kind}`, {
        hint: 'use choice, grid or int for it, or search: random / tpe',
      });
    }
  }
  if (budget && search && search.method !== 'grid' && budget.trials === undefined && budget.minutes === undefined) {
    reader.error(nodeAt(sweep, ['budget']) ?? sweep, ['sweep', 'budget'], `a ${search.method} search needs a budget: trials, minutes, or both`, { expected: 'budget: {trials: 20}' });
  }
  if (diagnostics.length > 0 || !space || !objective || !search || !pruning || !budget) return { diagnostics };
  return { spec: { space, objective, search, pruning, budget }, diagnostics };
}

function readMap(node: LocatedNode | undefined, path: PathSegment[], reader: Reader, keys: readonly string[], what: string): LocatedMap | undefined {
  if (node === undefined) return undefined;
  if (node.kind !== 'map') {
    reader.error(node, path, `${displayPath(path)} is ${what}`, { code: 'type' });
    return undefined;
  }
  for (const [key, value] of node.entries) {
    if (keys.includes(key)) continue;
    const close = closestMatches(key, keys);
    reader.error(value, [...path, key], `${displayPath(path)} has no \`${key}\``, {
      code: 'unknown-key',
      span: spanOf(value, node.span),
      expected: listChoices(keys),
      ...(close.length > 0 ? { hint: `did you mean \`${close[0]}\`?` } : {}),
    });
  }
  return node;
}

function scalar(node: LocatedNode | undefined): PlainValue | undefined {
  return node?.kind === 'scalar' ? node.value : undefined;
}

function readEnum<T extends string>(node: LocatedNode | undefined, path: PathSegment[], reader: Reader, allowed: readonly T[], fallback: T): T | undefined {
  if (node === undefined) return fallback;
  const value = scalar(node);
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  const close = typeof value === 'string' ? closestMatches(value, allowed) : [];
  reader.error(node, path, `${displayPath(path)} is ${JSON.stringify(toPlain(node))}, expected one of ${listChoices(allowed)}`, {
    code: 'enum',
    ...(close.length > 0 ? { hint: `did you mean \`${close[0]}\`?` } : {}),
  });
  return undefined;
}

function readNumber(node: LocatedNode | undefined, path: PathSegment[], reader: Reader, options: { integer?: boolean; min?: number; exclusiveMin?: boolean; max?: number }): number | undefined {
  if (node === undefined) return undefined;
  const value = scalar(node);
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!options.integer || Number.isInteger(value)) &&
    (options.min === undefined || (options.exclusiveMin ? value > options.min : value >= options.min)) &&
    (options.max === undefined || value <= options.max);
  if (ok) return value;
  const range = `${options.integer ? 'an integer' : 'a number'}${options.min !== undefined ? ` ${options.exclusiveMin ? '>' : '>='} ${options.min}` : ''}${options.max !== undefined ? ` and <= ${options.max}` : ''}`;
  reader.error(node, path, `${displayPath(path)} is ${JSON.stringify(toPlain(node))}, expected ${range}`, { code: typeof value === 'number' ? 'range' : 'type' });
  return undefined;
}

function readObjective(node: LocatedNode | undefined, reader: Reader, sweep: LocatedMap): SweepSpec['objective'] | undefined {
  const path = ['sweep', 'objective'];
  if (node === undefined) {
    reader.error(sweep, path, 'the sweep has no `objective`: what should it optimise?', { code: 'missing-key', span: sweep.keySpan ?? sweep.span, expected: 'objective: {metric: accuracy, split: validation}' });
    return undefined;
  }
  const map = readMap(node, path, reader, ['metric', 'split', 'direction'], 'a map like {metric: accuracy, split: validation}');
  if (!map) return undefined;
  const metric = readEnum(map.entries.get('metric'), [...path, 'metric'], reader, Object.keys(OBJECTIVE_METRICS) as ObjectiveMetric[], 'accuracy');
  const splitNode = map.entries.get('split');
  if (scalar(splitNode) === 'test') {
    reader.error(splitNode, [...path, 'split'], 'a sweep cannot optimise on the test split', {
      code: 'enum',
      hint: 'choosing among trials by their test score tunes them to the test rows, so that score no longer measures unseen data; optimise on validation (each task\'s validation fold) or oof (the ensemble\'s out-of-fold predictions) and keep test for the final word',
    });
    return undefined;
  }
  const split = readEnum(splitNode, [...path, 'split'], reader, OBJECTIVE_SPLITS, 'validation');
  if (metric === undefined || split === undefined) return undefined;
  if (split === 'validation' && (metric === 'macro_f1' || metric === 'log_loss')) {
    reader.error(map.entries.get('metric'), [...path, 'metric'], `${metric} is measured on the ensemble's out-of-fold predictions, not per epoch on validation rows`, {
      code: 'enum',
      hint: 'use split: oof for it, or metric accuracy / loss with split: validation',
    });
    return undefined;
  }
  const direction = readEnum(map.entries.get('direction'), [...path, 'direction'], reader, ['maximize', 'minimize'] as const, OBJECTIVE_METRICS[metric]);
  return direction === undefined ? undefined : { metric, split, direction };
}

function readSearch(node: LocatedNode | undefined, reader: Reader, configSeed: number): SweepSpec['search'] | undefined {
  const path = ['sweep', 'search'];
  const defaults = { method: 'tpe' as const, seed: configSeed, startupTrials: 5, gamma: 0.25, candidates: 24 };
  if (node === undefined) return defaults;
  if (node.kind === 'scalar') {
    const method = readEnum(node, path, reader, SEARCH_METHODS, 'tpe');
    return method && { ...defaults, method };
  }
  const map = readMap(node, path, reader, ['method', 'seed', 'startup_trials', 'gamma', 'candidates'], 'grid, random, tpe or a map like {method: tpe, seed: 1}');
  if (!map) return undefined;
  const method = readEnum(map.entries.get('method'), [...path, 'method'], reader, SEARCH_METHODS, 'tpe');
  const seed = readNumber(map.entries.get('seed'), [...path, 'seed'], reader, { integer: true, min: 0 });
  const startupTrials = readNumber(map.entries.get('startup_trials'), [...path, 'startup_trials'], reader, { integer: true, min: 1 });
  const gamma = readNumber(map.entries.get('gamma'), [...path, 'gamma'], reader, { min: 0, exclusiveMin: true, max: 1 });
  const candidates = readNumber(map.entries.get('candidates'), [...path, 'candidates'], reader, { integer: true, min: 1 });
  if (method === undefined) return undefined;
  return { method, seed: seed ?? defaults.seed, startupTrials: startupTrials ?? defaults.startupTrials, gamma: gamma ?? defaults.gamma, candidates: candidates ?? defaults.candidates };
}

function readPruning(node: LocatedNode | undefined, reader: Reader): SweepSpec['pruning'] | undefined {
  const path = ['sweep', 'pruning'];
  const defaults = { method: 'none' as const, minEpochs: 1, reductionFactor: 3, startupTrials: 2 };
  if (node === undefined) return defaults;
  if (node.kind === 'scalar') {
    const method = readEnum(node, path, reader, PRUNING_METHODS, 'none');
    return method && { ...defaults, method };
  }
  const map = readMap(node, path, reader, ['method', 'min_epochs', 'reduction_factor', 'startup_trials'], 'asha, median, none or a map like {method: asha, min_epochs: 1}');
  if (!map) return undefined;
  const method = readEnum(map.entries.get('method'), [...path, 'method'], reader, PRUNING_METHODS, 'asha');
  const minEpochs = readNumber(map.entries.get('min_epochs'), [...path, 'min_epochs'], reader, { integer: true, min: 1 });
  const reductionFactor = readNumber(map.entries.get('reduction_factor'), [...path, 'reduction_factor'], reader, { integer: true, min: 2 });
  const startupTrials = readNumber(map.entries.get('startup_trials'), [...path, 'startup_trials'], reader, { integer: true, min: 1 });
  if (method === undefined) return undefined;
  return { method, minEpochs: minEpochs ?? defaults.minEpochs, reductionFactor: reductionFactor ?? defaults.reductionFactor, startupTrials: startupTrials ?? defaults.startupTrials };
}

function readBudget(node: LocatedNode | undefined, reader: Reader): SweepSpec['budget'] | undefined {
  const path = ['sweep', 'budget'];
  if (node === undefined) return {};
  const map = readMap(node, path, reader, ['trials', 'minutes', 'workers'], 'a map like {trials: 20, minutes: 60}');
  if (!map) return undefined;
  const trials = readNumber(map.entries.get('trials'), [...path, 'trials'], reader, { integer: true, min: 1 });
  const minutes = readNumber(map.entries.get('minutes'), [...path, 'minutes'], reader, { min: 0, exclusiveMin: true });
  const workers = readNumber(map.entries.get('workers'), [...path, 'workers'], reader, { integer: true, min: 1 });
  return { ...(trials !== undefined ? { trials } : {}), ...(minutes !== undefined ? { minutes } : {}), ...(workers !== undefined ? { workers } : {}) };
}

/** Parses `models.tiny.layers[0].with.filters` into segments; undefined when it is not a path. */
export function parsePath(text: string): PathSegment[] | undefined {
  const out: PathSegment[] = [];
  const token = /([A-Za-z0-9_\-/$]+)|\[(\d+)\]|(\.)/gy;
  let expectKey = true;
  let pos = 0;
  while (pos < text.length) {
    token.lastIndex = pos;
    const m = token.exec(text);
    if (m === null || (m[3] !== undefined && expectKey)) return undefined;
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    expectKey = m[3] !== undefined;
    pos = token.lastIndex;
  }
  return out.length === 0 || expectKey ? undefined : out;
}

function readParameters(node: LocatedNode | undefined, reader: Reader, knownPath: (path: PathSegment[]) => boolean, configPaths: () => string[]): SearchSpace | undefined {
  const path = ['sweep', 'parameters'];
  if (node === undefined || node.kind !== 'map' || node.entries.size === 0) {
    reader.error(node, path, 'the sweep has no `parameters`: name at least one config path and its distribution', {
      code: 'missing-key',
      expected: 'parameters: {training.optimizer.adam.learning_rate: {loguniform: [1e-4, 1e-2]}}',
    });
    return undefined;
  }
  const dimensions: Dimension[] = [];
  let ok = true;
  for (const [key, value] of node.entries) {
    const segments = parsePath(key);
    const here = [...path, key];
    if (segments === undefined) {
      reader.error(value, here, `cannot read the parameter path \`${key}\``, { code: 'override-path', span: spanOf(value, node.span), expected: 'keys separated by dots, list items as [n], as --set takes them: models.cnn.layers[3].conv2d.filters' });
      ok = false;
      continue;
    }
    if (segments[0] === 'sweep' || segments[0] === 'extends' || segments[0] === 'name') {
      reader.error(value, here, `\`${key}\` cannot be searched: it names the sweep itself`, { code: 'override-path', span: spanOf(value, node.span) });
      ok = false;
      continue;
    }
    if (!knownPath(segments)) {
      const close = closestMatches(displayPath(segments), configPaths(), 1);
      reader.error(value, here, `\`${key}\` is not a path of the resolved config`, {
        code: 'override-path',
        span: spanOf(value, node.span),
        ...(close.length > 0 ? { hint: `did you mean \`${close[0]}\`?` } : { hint: 'parameters take the paths --set takes; `fer compile <config> --resolved` shows the resolved config' }),
      });
      ok = false;
      continue;
    }
    ok = readDimension(value, displayPath(segments), segments, here, dimensions, reader, undefined) && ok;
  }
  return ok ? { dimensions } : undefined;
}

/** A map with exactly one distribution key (and `step` beside `int`) is a distribution; anything else is a plain value. */
function distributionKey(node: LocatedNode): string | undefined {
  if (node.kind !== 'map') return undefined;
  const keys = [...node.entries.keys()];
  const kind = keys.find((k) => (DISTRIBUTIONS as readonly string[]).includes(k));
  if (kind === undefined) return undefined;
  return keys.every((k) => k === kind || (kind === 'int' && k === 'step')) ? kind : undefined;
}

function readDimension(node: LocatedNode, name: string, configPath: PathSegment[], at: PathSegment[], dimensions: Dimension[], reader: Reader, condition: Dimension['condition']): boolean {
  const kind = distributionKey(node);
  if (kind === undefined) {
    const keys = node.kind === 'map' ? [...node.entries.keys()] : [];
    const close = keys.flatMap((k) => closestMatches(k, DISTRIBUTIONS, 1));
    reader.error(node, at, `\`${name}\` has no distribution`, {
      code: 'type',
      expected: `one of ${listChoices(DISTRIBUTIONS)}: {choice: [a, b]}, {uniform: [0, 1]}, {loguniform: [1e-4, 1e-2]}, {int: [1, 4], step: 1}, {grid: [a, b]}`,
      ...(close.length > 0 ? { hint: `did you mean \`${close[0]}\`?` } : {}),
    });
    return false;
  }
  const map = node as LocatedMap;
  const body = map.entries.get(kind)!;
  const where = [...at, kind];
  if (kind === 'choice' || kind === 'grid') {
    if (body.kind !== 'list' || body.items.length === 0) {
      reader.error(body, where, `${kind} takes a list of at least one option`, { code: 'type', expected: `${kind}: [a, b, c]` });
      return false;
    }
    const index = dimensions.length;
    const options: ChoiceOption[] = body.items.map((item) => ({ value: toPlain(item), label: labelOf(toPlain(item)) }));
    // Same labels would merge nested names and hide which option a trial took: number them.
    if (new Set(options.map((o) => o.label)).size < options.length) options.forEach((o, i) => (o.label = `${i}:${o.label}`));
    const dimension: Dimension = { name, path: configPath, dist: { kind, options }, ...(condition ? { condition } : {}) };
    dimensions.push(dimension);
    let ok = true;
    body.items.forEach((item, option) => {
      for (const nested of nestedDistributions(item, [])) {
        const numbered = options[option]!.label.startsWith(`${option}:`);
        const inside = displayPath(nested.path);
        const nestedName = `${name}${numbered ? `#${option}` : ''}${typeof nested.path[0] === 'number' ? '' : '.'}${inside}`;
        ok = readDimension(nested.node, nestedName, nested.path, [...where, option, ...nested.path], dimensions, reader, { parent: index, option }) && ok;
      }
    });
    return ok;
  }
  if (body.kind !== 'list' || body.items.length !== 2 || body.items.some((i) => i.kind !== 'scalar' || typeof i.value !== 'number')) {
    reader.error(body, where, `${kind} takes [low, high], two numbers`, { code: 'type', expected: `${kind}: [${kind === 'loguniform' ? '1e-4, 1e-2' : kind === 'int' ? '1, 8' : '0.0, 0.5'}]` });
    return false;
  }
  const [low, high] = body.items.map((i) => (i as { value: number }).value) as [number, number];
  if (!(low < high) && !(kind === 'int' && low === high)) {
    reader.error(body, where, `${kind} [${low}, ${high}]: low must be below high`, { code: 'range' });
    return false;
  }
  if (kind === 'loguniform' && low <= 0) {
    reader.error(body, where, `loguniform [${low}, ${high}]: both ends must be above 0 (it samples their logarithm)`, { code: 'range', hint: 'use uniform for a range that includes 0' });
    return false;
  }
  let dist: Distribution;
  if (kind === 'int') {
    const stepNode = map.entries.get('step');
    const step = stepNode === undefined ? 1 : scalar(stepNode);
    if (!Number.isInteger(low) || !Number.isInteger(high) || typeof step !== 'number' || !Number.isInteger(step) || step < 1) {
      reader.error(stepNode ?? body, where, 'int takes integer ends and an integer step >= 1', { code: 'type', expected: '{int: [16, 64], step: 16}' });
      return false;
    }
    dist = { kind: 'int', low, high, step };
  } else dist = { kind: kind as 'uniform' | 'loguniform', low, high };
  dimensions.push({ name, path: configPath, dist, ...(condition ? { condition } : {}) });
  return true;
}

/** The distributions written inside a choice option, with their paths in it. */
function nestedDistributions(node: LocatedNode, path: PathSegment[]): { node: LocatedNode; path: PathSegment[] }[] {
  if (path.length > 0 && distributionKey(node) !== undefined) return [{ node, path }];
  if (node.kind === 'map') return [...node.entries].flatMap(([k, v]) => nestedDistributions(v, [...path, k]));
  if (node.kind === 'list') return node.items.flatMap((v, i) => nestedDistributions(v, [...path, i]));
  return [];
}

function labelOf(value: PlainValue): string {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1) return keys[0]!;
  }
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** Every path of a plain value, dotted as --set writes them (for did-you-mean). */
export function allPaths(value: unknown, at: PathSegment[] = [], out: string[] = []): string[] {
  if (at.length > 0) out.push(displayPath(at));
  if (Array.isArray(value)) value.forEach((v, i) => allPaths(v, [...at, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) allPaths(v, [...at, k], out);
  return out;
}

/** Whether a path exists in a plain value, or could be created in it (its parent is a map). */
export function pathExists(value: unknown, path: readonly PathSegment[]): boolean {
  let node: unknown = value;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return false;
    if (Array.isArray(node)) {
      if (typeof segment !== 'number' || segment >= node.length) return false;
    } else if (!(String(segment) in node)) return false;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return true;
}
