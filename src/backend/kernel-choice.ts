import { cpuFlags, describeCpu, hasAvx512 } from './cpu-features.js';

/**
 * The kernels fer chooses between on the native backend, where two of TensorFlow's compute the same
 * thing and which is faster was measured to depend on the CPU:
 * - convolution + bias (+ ReLU) forward (native/convolution.ts): oneDNN's fused kernel was 1.0-1.4x
 *   faster on every layer of the reference CNN on an Intel Xeon with AVX-512; on an AMD EPYC with AVX2
 *   only, TensorFlow's own (Eigen) `_FusedConv2D` was measured and stays;
 * - filter gradients of at least ~1 GFLOP (native/gradient-kernels.ts): TensorFlow's Eigen kernel ran
 *   at 75-90 GFLOP/s against oneDNN's 50-55 on the AVX2 EPYC; on the AVX-512 Xeon oneDNN's is 2.3-3.7x
 *   the faster.
 * Both kernels of a pair compute the same function and differ in the last bits (they sum in other
 * orders), and oneDNN runs on any x86-64 CPU (it picks its own AVX2 or AVX-512 code), so either path
 * can run anywhere: `FER_KERNELS=onednn|eigen` forces both choices on any CPU (tests run each path
 * against the portable result on whatever CPU they get), `auto` (the default) chooses by the CPU's
 * flags, and `FER_FILTER_GRADIENTS=onednn|eigen` overrides the filter-gradient choice alone. A run
 * records the choice (run.json `kernels`, MLflow tag `fer.kernels`), so results can be attributed.
 */
export type KernelSetting = 'auto' | 'onednn' | 'eigen';
export type KernelPath = 'onednn' | 'eigen';
export const KERNEL_SETTINGS: readonly KernelSetting[] = ['auto', 'onednn', 'eigen'];

export interface KernelChoice {
  /** FER_KERNELS (`auto` when unset). */
  setting: KernelSetting;
  /** Convolution + bias (+ ReLU) in one kernel: oneDNN's, or TensorFlow's Eigen `_FusedConv2D`. */
  fusedConvolution: KernelPath;
  /** Filter gradients of at least EIGEN_FILTER_GRADIENT.minFlops: oneDNN's backward-weights kernel, or TensorFlow's Eigen one. */
  largeFilterGradients: KernelPath;
  /** What decided, in words: "FER_KERNELS=eigen", "by the CPU: AVX2 without AVX-512". */
  reason: string;
}

/** The environment variables that decide; any others are ignored. */
export interface KernelEnvironment {
  FER_KERNELS?: string | undefined;
  FER_FILTER_GRADIENTS?: string | undefined;
}

function parse<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined || value === '') return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new Error(`${name}=${value} is not one of ${allowed.join(', ')} (it forces the kernels fer runs where TensorFlow has two for one job; see docs/engine.md)`);
}

/** The kernels for a CPU with `flags` under `env`; throws on a value of FER_KERNELS or FER_FILTER_GRADIENTS it does not know. */
export function chooseKernels(flags: readonly string[], env: KernelEnvironment = {}): KernelChoice {
  const setting = parse('FER_KERNELS', env.FER_KERNELS, KERNEL_SETTINGS) ?? 'auto';
  const filterOverride = parse<KernelPath>('FER_FILTER_GRADIENTS', env.FER_FILTER_GRADIENTS, ['onednn', 'eigen']);
  const avx512 = hasAvx512(flags);
  const avx2 = flags.includes('avx2');
  let choice: KernelChoice;
  if (setting === 'auto') {
    const cpu = avx512 ? 'AVX-512' : avx2 ? 'AVX2 without AVX-512' : 'neither AVX2 nor AVX-512';
    choice = { setting, fusedConvolution: avx512 ? 'onednn' : 'eigen', largeFilterGradients: avx2 && !avx512 ? 'eigen' : 'onednn', reason: `by the CPU: ${cpu}` };
  } else {
    choice = { setting, fusedConvolution: setting, largeFilterGradients: setting, reason: `FER_KERNELS=${setting}` };
  }
  if (filterOverride !== undefined) choice = { ...choice, largeFilterGradients: filterOverride, reason: `${choice.reason}; filter gradients by FER_FILTER_GRADIENTS=${filterOverride}` };
  return choice;
}

/** What a run records (run.json `kernels`, MLflow tags `fer.kernels` and `fer.cpu`): the choice and the CPU behind it. */
export interface KernelRecord extends KernelChoice {
  /** describeCpu(): model, cores and instruction sets. */
  cpu: string;
}

/** The choice this process would make (throws on an unknown FER_KERNELS), with the CPU. */
export function kernelRecord(env: KernelEnvironment = process.env): KernelRecord {
  return { ...chooseKernels(cpuFlags(), env), cpu: describeCpu() };
}

/** "fused convolution eigen, large filter gradients eigen (by the CPU: AVX2 without AVX-512)". */
export function describeKernelChoice(choice: Pick<Record<keyof KernelChoice, string>, 'fusedConvolution' | 'largeFilterGradients' | 'reason'>): string {
  return `fused convolution ${choice.fusedConvolution}, large filter gradients ${choice.largeFilterGradients} (${choice.reason})`;
}

/**
 * The switches fer's kernels read, set from the choice when the native backend starts
 * (applyKernelChoice). Tests flip them to exercise both paths in one process.
 */
const initial = chooseKernels(cpuFlags());
/** Whether the fused convolution may run as oneDNN's kernel rather than TensorFlow's `_FusedConv2D`. */
export const ONEDNN_FUSED_CONVOLUTION = { enabled: initial.fusedConvolution === 'onednn' };
/**
 * Filter gradients of at least `minFlops` floating-point operations run TensorFlow's own kernel where
 * `enabled` (measured crossover on the AVX2 machine; tests lower it to check small cases).
 */
export const EIGEN_FILTER_GRADIENT = { minFlops: 1e9, enabled: initial.largeFilterGradients === 'eigen' };

let applied: KernelChoice = initial;

/**
 * Sets the switches from FER_KERNELS / FER_FILTER_GRADIENTS and the CPU; throws on an unknown value.
 * On a GPU both stay off: TensorFlow runs its own GPU kernels, and these are CPU measurements.
 */
export function applyKernelChoice(env: KernelEnvironment = process.env, flags: readonly string[] = cpuFlags(), device: 'cpu' | 'gpu' = 'cpu'): KernelChoice {
  applied = chooseKernels(flags, env);
  ONEDNN_FUSED_CONVOLUTION.enabled = device === 'cpu' && applied.fusedConvolution === 'onednn';
  EIGEN_FILTER_GRADIENT.enabled = device === 'cpu' && applied.largeFilterGradients === 'eigen';
  return applied;
}

/** The choice the native backend started with (the CPU's, before it starts). */
export function appliedKernelChoice(): KernelChoice {
  return applied;
}
