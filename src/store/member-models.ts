import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { readJson } from '../core/json.js';

/** Finding a member's saved model in a run folder, for transfer learning (`models.<name>.init.run`). */
/** The model folder of a run's member: its final fit, else its fold with the best validation accuracy. */
export function memberModelDir(runDir: string, member: string): { dir: string; member: string; task: string } {
  const summary = readJson<{ members?: { name: string; oof?: { accuracy: number }; test?: { accuracy: number } }[] }>(path.join(runDir, 'ensemble', 'summary.json'));
  let chosen = member;
  if (member === 'best') {
    const ranked = [...(summary?.members ?? [])].sort((a, b) => (b.oof?.accuracy ?? b.test?.accuracy ?? 0) - (a.oof?.accuracy ?? a.test?.accuracy ?? 0));
    if (ranked.length === 0) throw new Error(`${runDir} has no ensemble summary to pick the best member from; name a member (init.member)`);
    chosen = ranked[0]!.name;
  }
  const memberDir = path.join(runDir, 'tasks', chosen);
  if (!existsSync(memberDir)) {
    const members = summary?.members?.map((m) => m.name) ?? [];
    throw new Error(`${runDir} has no member \`${chosen}\`${members.length > 0 ? ` (it has ${members.join(', ')})` : ''}`);
  }
  if (existsSync(path.join(memberDir, 'all', 'model', 'model.json'))) return { dir: path.join(memberDir, 'all', 'model'), member: chosen, task: 'all' };
  const folds = readdirSafe(memberDir).filter((f) => existsSync(path.join(memberDir, f, 'model', 'model.json')));
  if (folds.length === 0) throw new Error(`member \`${chosen}\` of ${runDir} has no saved model yet (has the run finished?)`);
  const accuracy = (f: string) => readJson<{ summary?: { val_accuracy?: number } }>(path.join(memberDir, f, 'status.json'))?.summary?.val_accuracy ?? 0;
  const best = [...folds].sort((a, b) => accuracy(b) - accuracy(a))[0]!;
  return { dir: path.join(memberDir, best, 'model'), member: chosen, task: best };
}

/**
 * A run folder, or an experiment's folder (runs/<experiment>) meaning its finished run with the
 * best ensemble accuracy: a config can then name "my best quick run" without its digest.
 */
export function chooseRun(folder: string): string {
  if (existsSync(path.join(folder, 'run.json'))) return folder;
  const candidates = readdirSafe(folder)
    .map((name) => path.join(folder, name))
    .filter((dir) => readJson<{ state?: string }>(path.join(dir, 'run.json'))?.state === 'finished')
    .map((dir) => {
      const summary = readJson<{ ensemble?: { test?: { accuracy: number }; oof?: { accuracy: number } } }>(path.join(dir, 'ensemble', 'summary.json'));
      return { dir, accuracy: summary?.ensemble?.oof?.accuracy ?? summary?.ensemble?.test?.accuracy ?? 0 };
    })
    .sort((a, b) => b.accuracy - a.accuracy || a.dir.localeCompare(b.dir));
  if (candidates.length === 0) throw new Error(`init.run: ${folder} is neither a fer run folder (no run.json) nor a folder of finished runs`);
  return candidates[0]!.dir;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}
