export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Prints rows of (what, milliseconds, ratio to the baseline) as an aligned table. */
export function printTable(title: string, rows: readonly [string, number, number][]): void {
  const width = Math.max(...rows.map((r) => r[0].length));
  console.log(`\n${title}`);
  console.log(`${'what'.padEnd(width)}  ${'ms'.padStart(8)}  ${'x baseline'.padStart(10)}`);
  for (const [what, ms, ratio] of rows) {
    console.log(`${what.padEnd(width)}  ${ms.toFixed(0).padStart(8)}  ${ratio.toFixed(2).padStart(10)}`);
  }
}
