import type { PlainValue } from '../config/located.js';
import { hasObjective, type SweepFile, type TrialRecord } from './state.js';

/**
 * The sweep's report: trials ranked by objective, what was pruned or failed and why, and how much
 * each parameter mattered.
 *
 * Importance is the correlation ratio (eta squared) of the objective on the parameter, a one-way
 * analysis of variance in the spirit of fANOVA without its random forest: the trials where the
 * parameter was active are grouped by its value (each option of a choice; numbers into up to four
 * buckets of equal count), and importance is the variance of the group means (weighted by group size)
 * over the total variance of the objective. 0: the groups do equally well; 1: the parameter alone
 * explains the spread. With few trials it is a rough guide (below four trials it is not given), and
 * it does not see interactions.
 */
export function parameterImportance(trials: readonly TrialRecord[]): { name: string; importance: number; trials: number }[] {
  const measured = trials.filter(hasObjective);
  const names = [...new Set(measured.flatMap((t) => Object.keys(t.params)))];
  return names
    .map((name) => {
      const rows = measured.filter((t) => name in t.params).map((t) => ({ value: t.params[name]!, objective: t.objective }));
      return { name, importance: etaSquared(rows), trials: rows.length };
    })
    .sort((a, b) => (Number.isNaN(b.importance) ? -1 : b.importance) - (Number.isNaN(a.importance) ? -1 : a.importance) || a.name.localeCompare(b.name));
}

/** Below this many trials with the parameter active, its importance is not estimated (NaN). */
const MIN_TRIALS = 4;

function etaSquared(rows: { value: PlainValue; objective: number }[]): number {
  if (rows.length < MIN_TRIALS) return Number.NaN;
  const groups = new Map<string, number[]>();
  if (rows.every((r) => typeof r.value === 'number')) {
    const sorted = [...rows].sort((a, b) => (a.value as number) - (b.value as number));
    // At least two trials a bucket: one trial a bucket would explain everything.
    const buckets = Math.min(4, Math.floor(sorted.length / 2));
    sorted.forEach((r, i) => {
      const key = String(Math.floor((i * buckets) / sorted.length));
      groups.set(key, [...(groups.get(key) ?? []), r.objective]);
    });
  } else {
    for (const r of rows) groups.set(JSON.stringify(r.value), [...(groups.get(JSON.stringify(r.value)) ?? []), r.objective]);
  }
  const mean = rows.reduce((s, r) => s + r.objective, 0) / rows.length;
  const total = rows.reduce((s, r) => s + (r.objective - mean) ** 2, 0);
  if (total === 0) return 0;
  let between = 0;
  for (const values of groups.values()) {
    const m = values.reduce((a, b) => a + b, 0) / values.length;
    between += values.length * (m - mean) ** 2;
  }
  return between / total;
}

function formatValue(value: PlainValue): string {
  return typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toPrecision(4)) : typeof value === 'string' ? value : JSON.stringify(value);
}

export function formatSweepReport(sweep: SweepFile): string {
  const lines: string[] = [];
  const counts = (state: string) => sweep.trials.filter((t) => t.state === state).length;
  lines.push(`sweep ${sweep.sweep}: ${sweep.trials.length} trial${sweep.trials.length === 1 ? '' : 's'} (${counts('finished')} finished, ${counts('pruned')} pruned, ${counts('failed')} failed, ${counts('running')} running)`);
  lines.push(`objective: ${sweep.objective.direction} ${sweep.objective.metric} on ${sweep.objective.split}`);
  if (sweep.best) lines.push(`best: ${sweep.best.id}, ${sweep.best.objective.toFixed(4)} (fer sweep ${sweep.configFile} --best)`);
  lines.push('', 'ranking:');
  const ranked = [...sweep.trials].sort((a, b) => {
    const av = hasObjective(a) ? a.objective : undefined;
    const bv = hasObjective(b) ? b.objective : undefined;
    if (av === undefined || bv === undefined) return (av === undefined ? 1 : 0) - (bv === undefined ? 1 : 0) || a.index - b.index;
    return (sweep.objective.direction === 'maximize' ? bv - av : av - bv) || a.index - b.index;
  });
  ranked.forEach((t, rank) => {
    const objective = hasObjective(t) ? t.objective.toFixed(4) : '-';
    const params = Object.entries(t.params)
      .map(([k, v]) => `${k}=${formatValue(v)}`)
      .join(' ');
    lines.push(`  ${String(rank + 1).padStart(3)}. ${t.id} ${t.state.padEnd(8)} ${objective.padStart(8)}  ${params}`);
    if (t.pruned) lines.push(`         pruned at epoch ${t.pruned.epoch}: ${t.pruned.reason}`);
    if (t.error) lines.push(`         failed: ${t.error.split('\n')[0]}`);
  });
  const importance = parameterImportance(sweep.trials);
  if (importance.length > 0) {
    lines.push('', 'parameter importance (eta squared of the objective on the parameter; 0 none, 1 all; see docs/sweeps.md):');
    for (const p of importance) lines.push(`  ${Number.isNaN(p.importance) ? '    -' : p.importance.toFixed(3)}  ${p.name} (${p.trials} trial${p.trials === 1 ? '' : 's'}${Number.isNaN(p.importance) ? ': too few to tell' : ''})`);
  }
  return `${lines.join('\n')}\n`;
}
