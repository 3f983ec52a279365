import { createHash } from 'node:crypto';
import { loadConfigWithPlugins } from '../config/read.js';
import { toPlain, type LocatedNode } from '../config/located.js';
import type { LoadedConfig } from '../config/load.js';
import { ConfigError, type Diagnostic } from '../core/diagnostic.js';
import type { PathSegment } from '../core/document-path.js';
import { allPaths, pathExists, readSweepSpec, type SweepSpec } from './spec.js';

/** The override that takes the sweep section out of a trial's config: a trial is a plain experiment. */
export const WITHOUT_SWEEP = '~sweep';

export interface LoadedSweep {
  /** The sweep's name: the experiment name of the file it is declared in. */
  name: string;
  file: string;
  spec: SweepSpec;
  /** The experiment every trial starts from (the file without its sweep section, with --set). */
  base: LoadedConfig;
  /** Identifies what trials mean: the space, search, objective and pruning, and the base config. */
  digest: string;
}

/** Reads a sweep: the file (validated as a whole), its base experiment, and the sweep section checked against it. */
export async function loadSweep(file: string, overrides: readonly string[], cwd: string): Promise<LoadedSweep> {
  const whole = await loadConfigWithPlugins(file, { overrides, cwd });
  const base = await loadConfigWithPlugins(file, { overrides: [...overrides, WITHOUT_SWEEP], cwd });
  const written = toPlain(base.tree);
  const knownPath = (path: PathSegment[]) => pathExists(base.config, path) || pathExists(written, path);
  const { spec, diagnostics } = readSweepSpec(whole.tree, base.config.seed, knownPath, () => allPaths(base.config));
  if (spec) diagnostics.push(...checkAgainstBase(spec, base, whole.tree));
  if (!spec || diagnostics.length > 0) throw new ConfigError(diagnostics, whole.sources);
  const digest = createHash('sha256')
    .update(JSON.stringify({ space: spec.space, search: spec.search, objective: spec.objective, pruning: spec.pruning }))
    .digest('hex')
    .slice(0, 12);
  return { name: whole.config.name, file: whole.file, spec, base, digest };
}

/** What the section asks of the experiment: validation rows to read the objective on. */
function checkAgainstBase(spec: SweepSpec, base: LoadedConfig, tree: LocatedNode): Diagnostic[] {
  const folds = base.config.folds;
  if (folds && folds.k >= 2) return [];
  const at = (tree.kind === 'map' && tree.entries.get('sweep')?.kind === 'map' && (tree.entries.get('sweep') as { entries: Map<string, LocatedNode> }).entries.get('objective')) || tree;
  return [
    {
      severity: 'error',
      code: 'missing-key',
      message: `the objective is read on ${spec.objective.split === 'oof' ? 'out-of-fold predictions' : 'validation rows'}, and this experiment has no folds to give them`,
      span: at.keySpan ?? at.span,
      path: 'sweep.objective',
      hint: 'add folds: {k: 2} (or more) to the experiment the sweep extends, or in the sweep file',
    },
  ];
}
