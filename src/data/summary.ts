import { classCounts, rowsOfSplit, type Dataset } from './dataset.js';

/** Rows and class counts, keyed by class name: the shape `fer data inspect --json` prints. */
export interface RowCounts {
  rows: number;
  classes: Record<string, number>;
}

export function countRows(dataset: Dataset, rows: ArrayLike<number>): RowCounts {
  const counts = classCounts(dataset, rows);
  return { rows: rows.length, classes: Object.fromEntries(dataset.classes.map((c, i) => [c, counts[i]!])) };
}

export function splitSummary(dataset: Dataset): Record<string, RowCounts> {
  return Object.fromEntries(dataset.splitNames.map((name) => [name, countRows(dataset, rowsOfSplit(dataset, name))]));
}

/** A text table: one row per entry, one column per class, numbers right-aligned. */
export function countsTable(classes: readonly string[], entries: readonly [string, RowCounts][]): string {
  const header = ['', 'rows', ...classes];
  const body = entries.map(([name, c]) => [name, c.rows.toLocaleString('en-US'), ...classes.map((k) => (c.classes[k] ?? 0).toLocaleString('en-US'))]);
  const rows = [header, ...body];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n');
}
