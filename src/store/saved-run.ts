import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { FerConfig } from '../config/types.js';
import type { ImageShape } from '../core/image.js';
import type { FerRegistry } from '../registry/index.js';
import { preprocessorFromSteps, type FittedStep, type Preprocessor } from '../data/preprocess.js';
import type { EnsembleSummary } from '../ensemble/summary.js';
import { activatePlugins, PluginError } from '../plugins/loader.js';
import { pluginRegistry, registryFromPluginFiles } from '../config/read.js';
import type { Tf } from '../core/tf.js';
import { readJson, readRunManifest, taskDir, type RunManifest } from './run-folder.js';
import { expandTasks, type Task } from './tasks.js';

/** A finished run read back from its folder, for evaluate and predict. */
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
  if (!manifest) throw new Error(`${dir} is not a fer run folder (no run.json); runs are under runs/<experiment>/run-<id>/`);
  const config = parse(readFileSync(path.join(dir, 'config.resolved.yaml'), 'utf8')) as FerConfig;
  const summary = readJson<EnsembleSummary>(path.join(dir, 'ensemble', 'summary.json'));
  return { dir, manifest, config, tasks: expandTasks(config), ...(summary ? { summary } : {}) };
}

/** The models that stand for a member: its final-fit model when there is one, else its fold models. */
export function memberModels(run: SavedRun): { member: string; model: string; weight: number; tasks: Task[] }[] {
  const byMember = new Map<string, Task[]>();
  for (const task of run.tasks) byMember.set(task.member, [...(byMember.get(task.member) ?? []), task]);
  return [...byMember.entries()].map(([member, tasks]) => {
    const final = tasks.filter((t) => t.fold === null);
    const chosen = final.length > 0 ? final : tasks.filter((t) => t.fold !== null);
    const missing = chosen.filter((t) => !existsSync(path.join(taskDir(run.dir, t.key), 'model', 'model.json')));
    if (missing.length > 0) throw new Error(`the run is not finished: ${missing.map((t) => t.key).join(', ')} ${missing.length === 1 ? 'has' : 'have'} no saved model`);
    return { member, model: tasks[0]!.model, weight: run.summary?.weights[member] ?? tasks[0]!.weight, tasks: chosen };
  });
}

export function taskPreprocessor(run: SavedRun, task: Task): Preprocessor {
  const saved = readJson<{ inputShape: ImageShape; steps: FittedStep[] }>(path.join(taskDir(run.dir, task.key), 'preprocess.json'));
  if (!saved) throw new Error(`${task.key} has no preprocess.json`);
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
  const fail = (messages: string[]) => new Error(`the plugins this run was trained with do not load: ${messages.join('; ')}`);
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
