import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, dedupeDiagnostics, sortDiagnostics, type Diagnostic, type SourceSpan } from '../core/diagnostic.js';
import { createRegistry, type FerRegistry } from '../registry/index.js';
import { schemaErrorsToDiagnostics, type Position } from '../schema/errors.js';
import { documentValidator } from '../schema/index.js';
import { builtinConfigDir } from '../core/package.js';
import { pathFields } from '../schema/paths.js';
import { checkSemantics } from './check.js';
import { checkImageSizes } from './image-sizes.js';
import { checkValidationRows } from './validation-rows.js';
import { normalizeConfig } from './normalize.js';
import type { DocumentPath } from '../core/document-path.js';
import { substituteEnvironment, type Environment } from './environment.js';
import { locate as locateIn, nodeAt, toPlain, type LocatedMap, type LocatedNode } from './located.js';
import { mergeLocated } from './merge.js';
import { applyOverrides, COMMAND_LINE, commandLineText } from './overrides.js';
import type { FerConfig } from './types.js';
import { readYaml } from './yaml-reader.js';

export interface LoadOptions {
  /** `--set` overrides, applied after every file. */
  overrides?: readonly string[];
  env?: Environment;
  cwd?: string;
  registry?: FerRegistry;
  /** Files merged under the config before everything else (plugins' template libraries). */
  prelude?: readonly string[];
}

export interface LoadedConfig {
  /** The absolute path of the config that was loaded. */
  file: string;
  config: FerConfig;
  /** Every file read, the loaded one last (bases before the files that extend them). */
  files: string[];
  /** Texts of the sources (files and `<command line>`), for code frames. */
  sources: Map<string, string>;
  registry: FerRegistry;
  /** The config as written (after extends, environment and overrides, before defaults), each value with its position: what `locate` reads. */
  tree: LocatedNode;
  /** Where a document path is written (for errors found after loading, by the compiler for instance). */
  locate(path: DocumentPath): Position;
}

function fileStart(file: string): SourceSpan {
  return { file, start: { line: 1, column: 1 }, end: { line: 1, column: 2 } };
}

interface ReadState {
  sources: Map<string, string>;
  files: string[];
  diagnostics: Diagnostic[];
  env: Environment;
  cwd: string;
}

/** `fer:templates/x.yaml` names a config shipped with fer; a missing `.yaml` is added when that file exists. */
function resolveExtends(reference: string, fromFile: string): string {
  return resolveReference(reference, path.dirname(fromFile));
}

/** A config named on the command line or in `extends`: `fer:demo` is shipped with fer, anything else is relative to `baseDir`. */
export function resolveReference(reference: string, baseDir: string): string {
  const base = reference.startsWith('fer:') ? path.resolve(builtinConfigDir, reference.slice(4)) : path.resolve(baseDir, reference);
  if (!existsSync(base)) {
    for (const ext of ['.yaml', '.yml']) if (existsSync(base + ext)) return base + ext;
  }
  return base;
}

function readTree(file: string, chain: readonly string[], via: SourceSpan | undefined, state: ReadState): LocatedNode | undefined {
  // Errors quote the lines they are about: a path that is not a YAML file (a typo, or /etc/shadow)
  // is refused by its name, before any of it could be quoted back.
  if (!/\.(ya?ml|json)$/i.test(file)) {
    state.diagnostics.push({
      severity: 'error',
      code: 'file-not-found',
      message: `${file} is not a .yaml or .yml file, so it is not read as a config`,
      ...(via ? { span: via } : {}),
      hint: 'a config (and every file it extends) is a YAML file named .yaml or .yml',
    });
    return undefined;
  }
  let text: string;
  try {
    if (statSync(file).isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    state.diagnostics.push({
      severity: 'error',
      code: 'file-not-found',
      message:
        code === 'EISDIR'
          ? `${file} is a folder, not a config file`
          : code === 'ENOENT'
            ? `config file not found: ${file}`
            : `cannot read ${file}: ${(cause as Error).message}`,
      ...(via ? { span: via } : {}),
      ...(code === 'ENOENT' ? { hint: 'check the path; relative paths in `extends` are relative to the file that has them' } : {}),
    });
    return undefined;
  }
  state.sources.set(file, text);
  const read = readYaml(text, file);
  state.diagnostics.push(...read.diagnostics);
  if (read.diagnostics.some((d) => d.severity === 'error')) {
    // A file with broken syntax may be half read: report its syntax, and nothing derived from it.
    state.files.push(file);
    return undefined;
  }
  let root: LocatedNode = read.root ?? { kind: 'map', span: fileStart(file), entries: new Map() };
  if (root.kind !== 'map') {
    state.diagnostics.push({
      severity: 'error',
      code: 'type',
      message: `a config file is a map of sections (name:, models:, training: ...), but ${path.basename(file)} holds ${root.kind === 'list' ? 'a list' : 'a single value'}`,
      span: root.span,
    });
    return undefined;
  }
  root = substituteEnvironment(root, state.env, state.cwd, state.diagnostics);
  const map = root as LocatedMap;
  const extendsNode = map.entries.get('extends');
  let merged: LocatedNode | undefined;
  if (extendsNode !== undefined) {
    const entries = new Map(map.entries);
    entries.delete('extends');
    root = { ...map, entries };
    const items = extendsNode.kind === 'list' ? extendsNode.items : [extendsNode];
    for (const item of items) {
      if (item.kind !== 'scalar' || typeof item.value !== 'string' || item.value === '') {
        state.diagnostics.push({
          severity: 'error',
          code: 'type',
          message: '`extends` takes a path or a list of paths',
          span: item.span,
          path: 'extends',
          expected: 'extends: base.yaml  or  extends: [fer:templates/resnet.yaml, base.yaml]',
        });
        continue;
      }
      const target = resolveExtends(item.value, file);
      const cycleAt = [...chain, file].indexOf(target);
      if (cycleAt >= 0) {
        const loop = [...chain.slice(cycleAt), file, target].map((f) => path.basename(f));
        state.diagnostics.push({
          severity: 'error',
          code: 'include-cycle',
          message: `circular extends: ${loop.join(' -> ')}`,
          span: item.span,
          path: 'extends',
          hint: 'a file cannot build on itself; move what both need into a third file that both extend',
        });
        continue;
      }
      const base = readTree(target, [...chain, file], item.span, state);
      if (base !== undefined) merged = merged === undefined ? base : mergeLocated(merged, base);
    }
  }
  state.files.push(file);
  return merged === undefined ? root : mergeLocated(merged, root);
}

/** The concrete paths a pattern with `*` (any key or item) matches in a config. */
function expand(value: unknown, pattern: readonly string[], at: DocumentPath = []): DocumentPath[] {
  if (pattern.length === 0) return [at];
  if (typeof value !== 'object' || value === null) return [];
  const [head, ...rest] = pattern as [string, ...string[]];
  const keys: (string | number)[] = head !== '*' ? [head] : Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((key) => expand((value as Record<string | number, unknown>)[key], rest, [...at, key]));
}

/** Relative paths (fields marked `format: path`) resolved against the folder of the file that wrote them. */
function resolvePaths(config: Record<string, unknown>, tree: LocatedNode, cwd: string, registry: FerRegistry): void {
  for (const fieldPath of pathFields(registry).flatMap((pattern) => expand(config, pattern))) {
    let parent: unknown = config;
    for (const segment of fieldPath.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[segment];
    const key = fieldPath[fieldPath.length - 1]!;
    const value = (parent as Record<string | number, unknown>)[key];
    if (typeof value !== 'string' || value === '' || /^https?:\/\//.test(value)) continue;
    const node = nodeAt(tree, fieldPath);
    const baseDir = node?.kind === 'scalar' ? node.baseDir : cwd;
    (parent as Record<string | number, unknown>)[key] = path.resolve(baseDir, value);
  }
}

export interface ReadResult {
  /** Undefined when a file could not be read or parsed; otherwise the config, valid or not. */
  loaded?: LoadedConfig;
  diagnostics: Diagnostic[];
  /** Texts of every source read (also when reading stopped early), for code frames. */
  sources: Map<string, string>;
}

/**
 * Reads a config as far as it goes: reads it and what it extends, substitutes the environment,
 * applies overrides, validates against the schema (filling defaults), checks what the schema
 * cannot, resolves relative paths and normalises it (every item written out with all its
 * arguments, config/normalize.ts). Returns what it found without throwing, so that callers can go on with the parts that
 * are sound (validate compiles the models that have no errors of their own).
 */
export function readConfig(file: string, options: LoadOptions = {}): ReadResult {
  const cwd = options.cwd ?? process.cwd();
  const registry = options.registry ?? createRegistry();
  const absolute = resolveReference(file, cwd);
  const state: ReadState = { sources: new Map(), files: [], diagnostics: [], env: options.env ?? process.env, cwd };
  const overrides = options.overrides ?? [];
  if (overrides.length > 0) state.sources.set(COMMAND_LINE, commandLineText(overrides));
  const done = (loaded?: LoadedConfig): ReadResult => ({
    ...(loaded ? { loaded } : {}),
    diagnostics: sortDiagnostics(dedupeDiagnostics(state.diagnostics)),
    sources: state.sources,
  });

  let tree = readTree(absolute, [], undefined, state);
  // Without this an empty file passes as a config of nothing ("ok (0 models)"), hiding a wrong path or a lost edit.
  if (tree?.kind === 'map' && tree.entries.size === 0) {
    state.diagnostics.push({
      severity: 'error',
      code: 'empty-config',
      message: 'the config file is empty: it sets no data, models or ensemble',
      span: fileStart(absolute),
      hint: 'start from a shipped config (`extends: fer:demo.yaml` or a copy of configs/demo.yaml)',
    });
  }
  for (const file of [...(options.prelude ?? [])].reverse()) {
    const base = readTree(file, [], undefined, state);
    if (base !== undefined && tree !== undefined) tree = mergeLocated(base, tree);
  }
  // Syntax and file errors first: what follows from a half-read file would only mislead.
  if (tree === undefined || state.diagnostics.some((d) => d.severity === 'error')) return done();
  tree = applyOverrides(tree, overrides, state.diagnostics);
  const root = tree;
  const locate = (p: DocumentPath): Position => locateIn(root, p);

  const plain = toPlain(tree) as Record<string, unknown>;
  const validate = documentValidator(registry);
  if (!validate(plain)) state.diagnostics.push(...schemaErrorsToDiagnostics(validate.errors ?? [], locate, { registry }));
  state.diagnostics.push(...checkSemantics(plain, registry, locate));

  if (typeof plain.name !== 'string') plain.name = path.basename(absolute).replace(/\.(ya?ml)$/i, '').replace(/[^A-Za-z0-9_.-]/g, '-');
  plain.models ??= {};
  // With stages, the epochs are theirs: everything that counts epochs (progress, schedules) reads one number.
  const training = plain.training as { epochs?: number; stages?: { epochs?: unknown }[] | null } | undefined;
  if (training && Array.isArray(training.stages) && training.stages.length > 0 && training.stages.every((s) => typeof s?.epochs === 'number')) {
    training.epochs = training.stages.reduce((sum, s) => sum + (s.epochs as number), 0);
  }
  plain.templates ??= {};
  resolvePaths(plain, tree, cwd, registry);
  // Paths first: a bare `csv: data.csv` is resolved where it is written, then becomes {csv: {path: ...}}.
  state.diagnostics.push(...normalizeConfig(plain, registry, locate));
  if (!state.diagnostics.some((d) => d.severity === 'error')) {
    state.diagnostics.push(...checkImageSizes(plain as unknown as FerConfig, registry, locate), ...checkValidationRows(plain as unknown as FerConfig, locate));
  }
  return done({
    file: absolute,
    config: plain as unknown as FerConfig,
    files: state.files,
    sources: state.sources,
    registry,
    tree: root,
    locate,
  });
}

/** Loads a config that must be valid: throws a ConfigError holding every problem found, each with its position. */
export function loadConfig(file: string, options: LoadOptions = {}): LoadedConfig {
  const { loaded, diagnostics, sources } = readConfig(file, options);
  if (loaded === undefined || diagnostics.some((d) => d.severity === 'error')) throw new ConfigError(diagnostics, sources);
  return loaded;
}
