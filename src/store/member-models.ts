import { readdirSync } from 'node:fs';
import path from 'node:path';
import { FerError } from '../core/errors.js';
import { hasSavedModel, readEnsembleSummary, readRunManifest, readTaskStatus, taskModelDir } from './run-folder.js';
import { openRun, type SavedRun } from './saved-run.js';
import type { Task } from './tasks.js';

/**
 * Which saved models stand for a member of a run. Two questions, two answers:
 * - predicting with the run's ensemble (memberModels) needs every model the member's test
 *   predictions came from: its final fit, else all its fold models (as the run's ensemble did);
 * - starting a new model from a member (transfer learning, memberModelDir) needs one model: its
 *   final fit, else its fold with the best validation accuracy.
 */
export interface MemberModels {
  member: string;
  model: string;
  /** The member's weight in the ensemble: fitted (ensemble/summary.json) or configured. */
  weight: number;
  tasks: Task[];
}

function tasksByMember(run: SavedRun): Map<string, Task[]> {
  const byMember = new Map<string, Task[]>();
  for (const task of run.tasks) byMember.set(task.member, [...(byMember.get(task.member) ?? []), task]);
  return byMember;
}

/** The models that stand for each member in the ensemble: its final-fit model when there is one, else its fold models. */
export function memberModels(run: SavedRun): MemberModels[] {
  return [...tasksByMember(run).entries()].map(([member, tasks]) => {
    const final = tasks.filter((t) => t.fold === null);
    const chosen = final.length > 0 ? final : tasks.filter((t) => t.fold !== null);
    const missing = chosen.filter((t) => !hasSavedModel(run.dir, t.key));
    if (missing.length > 0) {
      throw new FerError(`the run is not finished: ${missing.map((t) => t.key).join(', ')} ${missing.length === 1 ? 'has' : 'have'} no saved model`, 'run the experiment again: it continues where it stopped');
    }
    return { member, model: tasks[0]!.model, weight: run.summary?.weights[member] ?? tasks[0]!.weight, tasks: chosen };
  });
}

/**
 * The model folder of a run's member, for transfer learning (`models.<name>.init.run`): its final
 * fit, else its fold with the best validation accuracy. `best` means the member with the best
 * out-of-fold (else test) accuracy.
 */
export function memberModelDir(runDir: string, member: string): { dir: string; member: string; task: string } {
  const run = openRun(runDir);
  const byMember = tasksByMember(run);
  let chosen = member;
  if (member === 'best') {
    const ranked = [...(run.summary?.members ?? [])].sort((a, b) => (b.oof?.accuracy ?? b.test?.accuracy ?? 0) - (a.oof?.accuracy ?? a.test?.accuracy ?? 0));
    if (ranked.length === 0) throw new FerError(`${runDir} has no ensemble summary to pick the best member from`, 'name a member (init.member)');
    chosen = ranked[0]!.name;
  }
  const tasks = byMember.get(chosen);
  if (!tasks) throw new FerError(`${runDir} has no member \`${chosen}\` (it has ${[...byMember.keys()].join(', ')})`);
  const saved = tasks.filter((t) => hasSavedModel(runDir, t.key));
  const final = saved.find((t) => t.fold === null);
  const accuracy = (t: Task) => readTaskStatus(runDir, t.key)?.summary?.val_accuracy ?? 0;
  const best = final ?? [...saved].sort((a, b) => accuracy(b) - accuracy(a))[0];
  if (!best) throw new InitSourcePending(`member \`${chosen}\` of ${runDir} has no saved model yet`, 'has the run finished? `fer run` on its config finishes it');
  return { dir: taskModelDir(runDir, best.key), member: chosen, task: best.key.slice(chosen.length + 1) };
}

/** The run a model's initial weights come from is not there yet (its config has not been run, or not to the end). */
export class InitSourcePending extends FerError {}

/**
 * A run folder, or an experiment's folder (runs/<experiment>) meaning its finished run with the
 * best ensemble accuracy: a config can then name "my best quick run" without its digest.
 */
export function chooseRun(folder: string): string {
  if (readRunManifest(folder)) return folder;
  const candidates = readdirSafe(folder)
    .map((name) => path.join(folder, name))
    .filter((dir) => readRunManifest(dir)?.state === 'finished')
    .map((dir) => {
      const summary = readEnsembleSummary(dir);
      return { dir, accuracy: summary?.ensemble?.oof?.accuracy ?? summary?.ensemble?.test?.accuracy ?? 0 };
    })
    .sort((a, b) => b.accuracy - a.accuracy || a.dir.localeCompare(b.dir));
  if (candidates.length === 0) throw new InitSourcePending(`init.run: ${folder} is neither a fer run folder (no run.json) nor a folder of finished runs`, 'run the config that trains it first: its weights are what this model starts from');
  return candidates[0]!.dir;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}
