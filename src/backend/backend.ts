import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Tf } from '../core/tf.js';
import { packageRoot } from '../core/package.js';
import { capabilities, effectiveKernels, type BackendName, type Capabilities } from './capabilities.js';
import { cpuFlags } from './cpu-features.js';
import { applyKernelChoice, appliedKernelChoice, chooseKernels } from './kernel-choice.js';
import { hasFerAddon, oneDnnEnabled, type NativeBackend } from './native/native-backend.js';
import { registerNativeConvolution } from './native/convolution.js';
import { registerNativeGradientKernels } from './native/gradient-kernels.js';
import { registerNativeGradients } from './native/gradients.js';
import { withStderrHeld } from './native/stderr-hold.js';
import { splitStartupLog } from './native/startup-log.js';

/**
 * Backend selection. `auto` takes the fastest backend that loads: the native TensorFlow backend
 * (@tensorflow/tfjs-node-gpu, then @tensorflow/tfjs-node), then wasm, then the pure-JS cpu backend.
 * Every run says which one it chose and why; `fer doctor` lists them all.
 */
export type { BackendName };
export type BackendRequest = 'auto' | BackendName;
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

export interface BackendStatus {
  available: boolean;
  reason: string;
  /** The npm package that provides it. */
  package?: string;
  /** Native backend: whose build its addon is: fer's (`fer setup native`, with TensorFlow's fused convolution) or tfjs-node's prebuilt one. */
  addon?: 'fer' | 'tfjs-node';
}

export interface Engine {
  tf: Tf;
  backend: BackendName;
  /** Why this backend: shown at the start of every run. */
  reason: string;
  backends: Partial<Record<BackendName, BackendStatus>>;
  /** What the chosen backend can do (capabilities.ts): the object every backend-dependent path reads. */
  capabilities: Capabilities;
}

export interface EngineOptions {
  /** TensorFlow's deterministic ops (TF_DETERMINISTIC_OPS=1) on the native backend; set before it loads. */
  deterministic?: boolean;
  /** Threads for the native backend's ops (TF_NUM_INTRAOP_THREADS); default: TensorFlow's (all cores). */
  threads?: number;
  /** Probe every backend, not only until one works (fer doctor). */
  probeAll?: boolean;
}

const requireFromFer = createRequire(path.join(packageRoot, 'package.json'));

function packageDir(pkg: string): string | undefined {
  try {
    return path.dirname(requireFromFer.resolve(`${pkg}/package.json`));
  } catch {
    return undefined;
  }
}

/**
 * Where the package's native addon must be for this Node. Checked before the package is loaded:
 * loading a package without its addon registers its kernels and then fails, which would leave those
 * registrations behind to clash with the next package.
 */
function bindingFile(dir: string): string {
  const manifest = requireFromFer(path.join(dir, 'package.json')) as { binary?: { napi_versions?: number[] } };
  const napi = Number(process.versions.napi ?? 8);
  const versions = (manifest.binary?.napi_versions ?? [8]).filter((v) => v <= napi);
  return path.join(dir, 'lib', `napi-v${Math.max(...versions)}`, 'tfjs_binding.node');
}

/** Turns a native load failure into what to do about it. */
function nativeFailure(pkg: string, error: unknown): string {
  const message = (error as Error).message ?? String(error);
  if (/tfjs_binding\.node|napi-v\d/.test(message) && /Cannot find|not find|ENOENT/i.test(message)) {
    return `${pkg} is installed without its native addon: run \`fer setup native${pkg.endsWith('-gpu') ? ' --gpu' : ''}\``;
  }
  if (/libcud|libcublas|libcudnn/i.test(message)) return `${pkg} needs CUDA libraries that are not on the library path (${message.split('\n')[0]})`;
  if (/libtensorflow/i.test(message)) return `${pkg} cannot find libtensorflow: run \`fer setup native${pkg.endsWith('-gpu') ? ' --gpu' : ''}\``;
  return `${pkg} failed to load: ${message.split('\n')[0]}`;
}

let startupNoticesShown = false;
/** `--verbose`: show TensorFlow's start-up notices, which loading the native backend otherwise keeps back. */
export function showNativeStartupNotices(show = true): void {
  startupNoticesShown = show;
}

/**
 * Loads a native package with stderr held (stderr-hold.ts): TensorFlow's start-up notices are
 * dropped unless --verbose; anything else it wrote (a real problem) goes on to stderr.
 */
function requireQuietly(pkg: string): Tf {
  return withStderrHeld(
    () => {
      const tf = requireFromFer(pkg) as Tf;
      // The backend's first use creates TensorFlow's context, which logs notices of its own.
      tf.backend();
      return tf;
    },
    (text) => {
      const { rest } = splitStartupLog(text);
      const shown = startupNoticesShown ? text : rest;
      if (shown !== '') process.stderr.write(shown);
    },
  );
}

let loadedNative: { tf: Tf; pkg: string; version: string } | undefined;
let nativeTried: Map<string, string> | undefined;

/** Loads the native backend once per process (it cannot be unloaded; a second package would clash). */
function loadNative(options: EngineOptions): { tf: Tf; pkg: string; version: string } | Map<string, string> {
  if (loadedNative) return loadedNative;
  if (nativeTried) return nativeTried;
  const failures = new Map<string, string>();
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  // libtensorflow leaves TensorFlow's oneDNN kernels off unless asked (Python TensorFlow turns them
  // on); measured here they train ResNet-18 2.4x and a batch-norm CNN 1.4x faster. TF_ENABLE_ONEDNN_OPTS=0 opts out.
  process.env.TF_ENABLE_ONEDNN_OPTS ??= '1';
  if (options.deterministic) process.env.TF_DETERMINISTIC_OPS = '1';
  if (options.threads !== undefined) process.env.TF_NUM_INTRAOP_THREADS = String(options.threads);
  // A FER_KERNELS typo must stop the run, not turn into "the native backend is unavailable".
  chooseKernels(cpuFlags(), process.env);
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    const dir = packageDir(pkg);
    if (dir === undefined) {
      failures.set(pkg, `${pkg} is not installed`);
      continue;
    }
    if (!existsSync(bindingFile(dir))) {
      failures.set(pkg, `${pkg} is installed without its native addon: run \`fer setup native${pkg.endsWith('-gpu') ? ' --gpu' : ''}\``);
      continue;
    }
    try {
      const tf = requireQuietly(pkg);
      const gpu = (tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true;
      applyKernelChoice(process.env, cpuFlags(), gpu ? 'gpu' : 'cpu');
      registerNativeGradients(tf);
      registerNativeGradientKernels(tf);
      registerNativeConvolution(tf);
      // The native backend object carries its binding, which knows the TensorFlow version.
      const version = (tf.backend() as unknown as { binding?: { TF_Version?: string } }).binding?.TF_Version ?? 'unknown';
      loadedNative = { tf, pkg, version };
      return loadedNative;
    } catch (error) {
      failures.set(pkg, nativeFailure(pkg, error));
    }
  }
  nativeTried = failures;
  return failures;
}

/** The backend a request would get, judged without loading anything (for dry runs and plans). */
export function predictBackend(request: BackendRequest): BackendName {
  if (request !== 'auto') return request;
  if (predictNativePackage() !== undefined) return 'tensorflow';
  return packageDir('@tensorflow/tfjs-backend-wasm') !== undefined ? 'wasm' : 'cpu';
}

async function tfModule(): Promise<Tf> {
  return (await import('@tensorflow/tfjs')) as unknown as Tf;
}

async function tryWasm(tf: Tf): Promise<BackendStatus> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    const { registerWasmTrainingKernels } = await import('./wasm-kernels.js');
    registerWasmTrainingKernels(tf);
    const ok = await tf.setBackend('wasm');
    if (!ok) return { available: false, reason: 'the wasm backend did not initialise', package: '@tensorflow/tfjs-backend-wasm' };
    const simd = tf.env().getAsync ? await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') : false;
    return {
      available: true,
      reason: `@tensorflow/tfjs-backend-wasm 4.22.0, SIMD ${simd ? 'yes' : 'no'}, threads no (Node), with fer's convolution gradient kernels`,
      package: '@tensorflow/tfjs-backend-wasm',
    };
  } catch (error) {
    return { available: false, reason: `@tensorflow/tfjs-backend-wasm failed to load: ${(error as Error).message}`, package: '@tensorflow/tfjs-backend-wasm' };
  }
}

/** Starts the requested backend (or the best one for `auto`) and returns tf with it active. */
export async function startEngine(request: BackendRequest = 'auto', options: EngineOptions = {}): Promise<Engine> {
  const backends: Partial<Record<BackendName, BackendStatus>> = {};
  let chosen: { tf: Tf; backend: BackendName; reason: string } | undefined;

  if (request === 'auto' || request === 'tensorflow' || options.probeAll) {
    const native = loadNative(options);
    if (native instanceof Map) {
      backends.tensorflow = {
        available: false,
        reason: [...native.values()].join('; '),
        package: '@tensorflow/tfjs-node',
      };
    } else {
      const nativeBackend = native.tf.backend() as unknown as NativeBackend & { isUsingGpuDevice?: boolean };
      const addon = hasFerAddon(nativeBackend) ? 'fer' : 'tfjs-node';
      const addonNote = addon === 'fer' ? "fer's addon (fused convolutions, training steps as TensorFlow functions)" : "tfjs-node's prebuilt addon (no fused convolutions, steps op by op: `fer setup native` builds fer's)";
      const gpu = nativeBackend.isUsingGpuDevice === true;
      const oneDnn = !gpu && oneDnnEnabled();
      // Which kernels this CPU gets where TensorFlow has two (results differ in the last bits between them).
      const kernels = effectiveKernels(appliedKernelChoice(), { ferAddon: addon === 'fer', oneDnn, nativeGradients: process.env.FER_TFJS_GRADIENTS !== '1' });
      const kernelNote = gpu ? ", on a GPU (TensorFlow's GPU kernels)" : `, kernels: ${kernelSummary(kernels)}`;
      backends.tensorflow = {
        available: true,
        reason: `${native.pkg} with TensorFlow ${native.version}, oneDNN ${oneDnn ? 'on' : 'off'}, ${addonNote}${kernelNote}`,
        package: native.pkg,
        addon,
      };
      if (request === 'auto' || request === 'tensorflow') {
        chosen = { tf: native.tf, backend: 'tensorflow', reason: `${request === 'auto' ? 'the fastest available: ' : 'as requested: '}${backends.tensorflow.reason}` };
      }
    }
  }
  const tf = chosen?.tf ?? (await tfModule());
  if ((!chosen && (request === 'auto' || request === 'wasm')) || options.probeAll) {
    backends.wasm = await tryWasm(tf);
    if (!chosen && backends.wasm.available && (request === 'auto' || request === 'wasm')) {
      // The fallback names the way to the native backend, in the line each command prints once: an
      // install whose set-up step did not run (npm 11 runs a dependency's install scripts only once approved) learns it.
      const reason =
        request === 'auto'
          ? `the native backend is unavailable (${backends.tensorflow?.reason}); using wasm: ${backends.wasm.reason}; for the native backend (several times faster): npx fer setup native (docs/engine.md)`
          : `as requested: ${backends.wasm.reason}`;
      chosen = { tf, backend: 'wasm', reason };
    }
  }
  backends.cpu = { available: true, reason: 'pure JavaScript, always available, slowest', package: '@tensorflow/tfjs' };
  if (!chosen) {
    if (request !== 'auto' && request !== 'cpu') {
      const status = backends[request];
      throw new Error(`the ${request} backend is not available: ${status?.reason ?? 'unknown'}`);
    }
    chosen = { tf, backend: 'cpu', reason: request === 'cpu' ? 'as requested: pure JavaScript' : 'no faster backend is available: pure JavaScript (very slow for training)' };
  }
  // tfjs greets Node users on the first cpu tensor with advice to install tfjs-node; fer says what it uses itself.
  const warn = console.warn;
  console.warn = () => {};
  try {
    await chosen.tf.setBackend(chosen.backend);
    await chosen.tf.ready();
    chosen.tf.tidy(() => chosen!.tf.scalar(0).dataSync());
  } finally {
    console.warn = warn;
  }
  return { tf: chosen.tf, backend: chosen.backend, reason: chosen.reason, backends, capabilities: capabilities(chosen.tf) };
}

/** "oneDNN's fused convolutions, TensorFlow's large filter gradients (by the CPU: AVX2 without AVX-512)". */
function kernelSummary(kernels: ReturnType<typeof effectiveKernels>): string {
  const whose = (path: 'onednn' | 'eigen') => (path === 'onednn' ? "oneDNN's" : "TensorFlow's");
  const convolution = kernels.fusedConvolution === 'unfused' ? 'convolutions unfused' : `${whose(kernels.fusedConvolution)} fused convolutions`;
  return `${convolution}, ${whose(kernels.largeFilterGradients)} large filter gradients (${kernels.reason})`;
}

/** The native package a `tensorflow` backend would load, judged without loading it (for placing workers). */
export function predictNativePackage(): string | undefined {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    const dir = packageDir(pkg);
    if (dir !== undefined && existsSync(bindingFile(dir))) return pkg;
  }
  return undefined;
}
