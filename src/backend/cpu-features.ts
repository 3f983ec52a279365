import { readFileSync } from 'node:fs';

/**
 * What the CPU can do, for the choices between TensorFlow's kernels that fer makes on the native
 * backend: which of two kernels is faster was measured to depend on the CPU (AVX2-only AMD EPYC
 * against AVX-512 Intel Xeon), so the choice follows the CPU's flags rather than a timing at start,
 * and a run's arithmetic never depends on a measurement's noise.
 */
let flags: string[] | undefined;

/** The CPU's feature flags as Linux lists them; none elsewhere (no choice then depends on them). */
export function cpuFlags(): readonly string[] {
  if (flags === undefined) {
    try {
      const line = readFileSync('/proc/cpuinfo', 'utf8')
        .split('\n')
        .find((l) => l.startsWith('flags'));
      flags = line ? line.slice(line.indexOf(':') + 1).trim().split(/\s+/) : [];
    } catch {
      flags = [];
    }
  }
  return flags;
}

/** Whether `flags` describe an x86 CPU with AVX-512 (where oneDNN's kernels were measured fastest). */
export function hasAvx512(cpu: readonly string[] = cpuFlags()): boolean {
  return cpu.includes('avx512f');
}
