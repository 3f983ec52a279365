import { readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * What the CPU can do, for the choices between TensorFlow's kernels that fer makes on the native
 * backend: which of two kernels is faster was measured to depend on the CPU (AVX2-only AMD EPYC
 * against AVX-512 Intel Xeon), so the choice follows the CPU's flags rather than a timing at start,
 * and a run's arithmetic never depends on a measurement's noise (see kernel-choice.ts).
 */
let cpuinfo: { flags: string[]; model: string | undefined } | undefined;

function readCpuinfo(): { flags: string[]; model: string | undefined } {
  if (cpuinfo === undefined) {
    let text = '';
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      // Not Linux: no flags, so no choice depends on them.
    }
    // The first processor's lines, `name<tabs>: value`.
    const fields = new Map<string, string>();
    for (const line of text.split('\n')) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const key = line.slice(0, colon).trim();
      if (!fields.has(key)) fields.set(key, line.slice(colon + 1).trim());
    }
    const field = (name: string) => fields.get(name);
    // x86 lists `flags`, ARM `Features`.
    const flags = field('flags') ?? field('Features');
    cpuinfo = { flags: flags ? flags.split(/\s+/) : [], model: field('model name') };
  }
  return cpuinfo;
}

/** The CPU's feature flags as Linux lists them; none elsewhere (no choice then depends on them). */
export function cpuFlags(): readonly string[] {
  return readCpuinfo().flags;
}

/** Whether `flags` describe an x86 CPU with AVX-512 (where oneDNN's kernels were measured fastest). */
export function hasAvx512(cpu: readonly string[] = cpuFlags()): boolean {
  return cpu.includes('avx512f');
}

/**
 * The instruction sets that matter to TensorFlow's and oneDNN's kernels (and so to fer's choices
 * and to the last digits of results), in this order; the rest of the CPU's flags do not.
 */
export const KERNEL_INSTRUCTION_SETS = ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx512_bf16', 'avx512_fp16', 'amx_tile', 'amx_bf16', 'amx_int8', 'asimd', 'sve'] as const;

/** Which of KERNEL_INSTRUCTION_SETS `flags` include. */
export function instructionSets(flags: readonly string[] = cpuFlags()): string[] {
  return KERNEL_INSTRUCTION_SETS.filter((set) => flags.includes(set));
}

/** The CPU's model name (`/proc/cpuinfo`, else what Node reports), e.g. "AMD EPYC 7B13". */
export function cpuModel(): string {
  return readCpuinfo().model ?? os.cpus()[0]?.model?.trim() ?? 'unknown CPU';
}

/** The cores this process may use. */
export function cpuCores(): number {
  return os.availableParallelism?.() ?? os.cpus().length;
}

/** One line for logs and benchmark headers: "AMD EPYC, 2 cores, avx avx2 fma (no avx512f)". */
export function describeCpu(flags: readonly string[] = cpuFlags(), model = cpuModel(), cores = cpuCores()): string {
  const sets = instructionSets(flags);
  const x86 = flags.includes('sse2');
  return `${model}, ${cores} core${cores === 1 ? '' : 's'}, ${sets.length > 0 ? sets.join(' ') : 'no listed instruction sets'}${x86 && !hasAvx512(flags) ? ' (no avx512f)' : ''}`;
}
