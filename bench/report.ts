import { describeKernelChoice, kernelRecord } from '../src/backend/kernel-choice.js';

/**
 * The header every benchmark prints first: the machine its figures come from. The same kind of cloud
 * machine comes with different CPUs (an AMD EPYC with AVX2, an Intel Xeon with AVX-512 and AMX), which
 * run different kernels (kernel-choice.ts) at different speeds, so figures are only comparable with
 * the CPU, its instruction sets and the kernels they chose beside them.
 */
export function printMachine(bench: string): void {
  const kernels = kernelRecord();
  const threads = process.env.TF_NUM_INTRAOP_THREADS ? `, TF_NUM_INTRAOP_THREADS=${process.env.TF_NUM_INTRAOP_THREADS}` : '';
  console.log(`bench ${bench} on ${kernels.cpu}`);
  console.log(`  native kernels: ${describeKernelChoice(kernels)}, oneDNN ${process.env.TF_ENABLE_ONEDNN_OPTS === '0' ? 'off' : 'on'}${threads}`);
}

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
