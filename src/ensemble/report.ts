import type { EnsembleSummary } from './summary.js';
import type { Metrics } from './metrics.js';

const pct = (m: Metrics | undefined, key: 'accuracy' | 'macroF1') => (m ? `${(m[key] * 100).toFixed(2)}%` : '-');

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

/** The terminal report: members and ensemble side by side, then the ensemble's classes and confusion matrix. */
export function formatReport(summary: EnsembleSummary): string {
  const rows: string[][] = [['', 'out-of-fold acc', 'macro-F1', 'test acc', 'macro-F1']];
  for (const m of summary.members) rows.push([m.name, pct(m.oof, 'accuracy'), pct(m.oof, 'macroF1'), pct(m.test, 'accuracy'), pct(m.test, 'macroF1')]);
  for (const [model, r] of Object.entries(summary.models)) {
    if (summary.members.filter((m) => m.model === model).length > 1) rows.push([`ensemble of ${model}`, pct(r.oof, 'accuracy'), pct(r.oof, 'macroF1'), pct(r.test, 'accuracy'), pct(r.test, 'macroF1')]);
  }
  rows.push([`ENSEMBLE (${summary.method})`, pct(summary.ensemble.oof, 'accuracy'), pct(summary.ensemble.oof, 'macroF1'), pct(summary.ensemble.test, 'accuracy'), pct(summary.ensemble.test, 'macroF1')]);
  const plain = summary.views?.withoutViews;
  if (plain) rows.push(['  without test-time views', pct(plain.oof, 'accuracy'), pct(plain.oof, 'macroF1'), pct(plain.test, 'accuracy'), pct(plain.test, 'macroF1')]);
  const out = [table(rows)];
  if (summary.views) out.push('', `Test-time views: ${summary.views.label} (the figures above are with them; the line below the ensemble, without).`);
  const shown = summary.ensemble.test ?? summary.ensemble.oof;
  if (shown) {
    const split = summary.ensemble.test ? 'test' : 'out-of-fold';
    out.push('', `Ensemble per class (${split}, ${shown.rows} rows):`);
    out.push(
      table([
        ['class', 'precision', 'recall', 'F1', 'support'],
        ...summary.classes.map((c) => {
          const m = shown.perClass[c]!;
          return [c, `${(m.precision * 100).toFixed(1)}%`, `${(m.recall * 100).toFixed(1)}%`, `${(m.f1 * 100).toFixed(1)}%`, String(m.support)];
        }),
      ]),
    );
    out.push('', `Confusion matrix (${split}; rows: true class, columns: predicted):`);
    out.push(table([['', ...summary.classes.map((c) => c.slice(0, 8))], ...shown.confusion.map((row, i) => [summary.classes[i]!, ...row.map(String)])]));
  }
  return out.join('\n');
}
