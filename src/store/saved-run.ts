import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { FerConfig } from '../config/types.js';
import { FerError } from '../core/errors.js';
import type { FerRegistry } from '../registry/index.js';
import { preprocessorFromSteps, type Preprocessor } from '../data/preprocess.js';
import type { EnsembleSummary } from '../ensemble/summary.js';
import { activatePlugins, PluginError } from '../plugins/loader.js';
import { pluginRegistry, registryFromPluginFiles } from '../config/read.js';
import type { Tf } from '../core/tf.js';
import { readEnsembleSummary, readRunManifest, readTaskPreprocessing, type RunManifest } from './run-folder.js';
import { expandTasks, type Task } from './tasks.js';

/** A run read back from its folder, for evaluate, predict and transfer learning. */
export interface SavedRun {
  dir: string;
  manifest: RunManifest;
  config: FerConfig;
  tasks: Task[];
  summary?: EnsembleSummary;
  /** The registry with the run's plugins, once activateRunPlugins loaded them (their preprocessing steps apply saved steps too). */
  registry?: FerRegistry;
}

export function openRun(dir: string): SavedRun {
  const manifest = readRunManifest(dir);
  if (!manifest) throw new FerError(`${dir} is not a fer run folder (no run.json)`, 'runs are under runs/<experiment>/run-<id>/ (`fer runs list` shows them)');
  const config = parse(readFileSync(path.join(dir, 'config.resolved.yaml'), 'utf8')) as FerConfig;
  const summary = readEnsembleSummary(dir);
  return { dir, manifest, config, tasks: expandTasks(config), ...(summary ? { summary } : {}) };
}

export function taskPreprocessor(run: SavedRun, task: Task): Preprocessor {
  const saved = readTaskPreprocessing(run.dir, task.key);
  if (!saved) throw new FerError(`${task.key} of ${run.dir} has no preprocess.json`, 'the task has not finished: run the experiment again to finish it');
  return preprocessorFromSteps(saved.steps, saved.inputShape, run.registry);
}

/**
 * Loads the plugins a run was trained with (from where the run recorded them, else as its config
 * names them) and registers their layer classes with this tfjs, so its saved models load.
 */
export async function activateRunPlugins(run: SavedRun, tf: Tf): Promise<void> {
  const recorded = run.manifest.plugins;
  const specs = run.config.plugins ?? [];
  if ((recorded ?? specs).length === 0) return;
  const fail = (messages: string[]) => new FerError(`the plugins this run was trained with do not load: ${messages.join('; ')}`);
  const cwd = path.dirname(run.manifest.configFile);
  if (!recorded) {
    // Runs from before fer recorded its plugins: as their config names them.
    const { registry, diagnostics } = await pluginRegistry(specs, cwd);
    if (diagnostics.length > 0) throw fail(diagnostics.map((d) => d.message));
    activatePlugins(tf, registry);
    run.registry = registry;
    return;
  }
  // The files the run recorded, as its workers loaded them (not checked against their digests:
  // a plugin fixed since training may still load the saved weights).
  try {
    const registry = await registryFromPluginFiles(recorded, cwd, { verify: false });
    activatePlugins(tf, registry);
    run.registry = registry;
  } catch (error) {
    if (error instanceof PluginError) throw fail([error.message]);
    throw error;
  }
}
