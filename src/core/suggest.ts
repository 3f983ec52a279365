/**
 * Did-you-mean: optimal string alignment distance (Levenshtein plus adjacent transpositions,
 * so `fitlers` is one edit from `filters`), compared case-insensitively.
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const rows = s.length + 1;
  const cols = t.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      const row = d[i]!;
      const prev = d[i - 1]!;
      let best = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      row[j] = best;
    }
  }
  return d[rows - 1]![cols - 1]!;
}

/** Normalises spelling variants that are not typos: `BatchNormalization`, `batch-norm`, `batchNorm`. */
function squash(name: string): string {
  return name.toLowerCase().replace(/[-_\s/]/g, '');
}

/**
 * The candidates closest to `name`, best first. A candidate qualifies when it is a small number
 * of edits away (scaled with length, as most spell checkers do) or equal once case and separators
 * are ignored.
 */
export function closestMatches(name: string, candidates: Iterable<string>, limit = 3): string[] {
  const scored: { candidate: string; score: number }[] = [];
  const squashed = squash(name);
  for (const candidate of candidates) {
    if (candidate === name) continue;
    if (squash(candidate) === squashed) {
      scored.push({ candidate, score: 0 });
      continue;
    }
    const distance = editDistance(name, candidate);
    const allowed = Math.max(1, Math.floor(Math.max(name.length, candidate.length) / 3));
    if (distance <= allowed) scored.push({ candidate, score: distance });
    else if (squashed.length >= 4 && squash(candidate).startsWith(squashed)) {
      scored.push({ candidate, score: allowed + 1 });
    }
  }
  scored.sort((a, b) => a.score - b.score || a.candidate.localeCompare(b.candidate));
  return scored.slice(0, limit).map((s) => s.candidate);
}

/** `did you mean `filters`?` or undefined when nothing is close. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  const matches = closestMatches(name, candidates);
  if (matches.length === 0) return undefined;
  if (matches.length === 1) return `did you mean \`${matches[0]}\`?`;
  return `did you mean ${matches.map((m) => `\`${m}\``).join(' or ')}?`;
}

/** A readable list of allowed names, shortened when long so an error stays a few lines. */
export function listChoices(choices: readonly string[], max = 12): string {
  const shown = choices.slice(0, max).map((c) => `\`${c}\``);
  const rest = choices.length - shown.length;
  return rest > 0 ? `${shown.join(', ')} and ${rest} more` : shown.join(', ');
}
