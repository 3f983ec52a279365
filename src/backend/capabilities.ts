import type { Tf } from '../core/tf.js';
import { machineDevices, type Devices } from './devices.js';
import { appliedKernelChoice, type KernelChoice, type KernelPath, type KernelSetting } from './kernel-choice.js';
import { hasFerAddon, oneDnnEnabled, type NativeBackend } from './native/native-backend.js';

/**
 * What the running backend can do, in one object: which backend and package, the devices, and which of
 * fer's faster paths it has. Every part of fer that runs a path only some backends have reads it here
 * (`capabilities(tf).fusedBatchNorm`...) instead of comparing backend names, so a new backend or a GPU
 * changes one place. Computed once per backend and process (a process may switch between backends:
 * tests compare the native backend with the cpu one), from the started backend itself.
 */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface EffectiveKernels {
  setting: KernelSetting;
  /** What runs convolution + bias (+ ReLU): oneDNN's fused kernel, TensorFlow's `_FusedConv2D`, or three ops (no fer addon). */
  fusedConvolution: KernelPath | 'unfused';
  largeFilterGradients: KernelPath;
  reason: string;
}

export interface Capabilities {
  backend: BackendName;
  /** The native TensorFlow library (tfjs-node or tfjs-node-gpu). */
  native: boolean;
  /** The npm package that provides the backend. */
  package: string;
  /** TensorFlow's version, on the native backend. */
  tensorflow: string | null;
  /** Where the backend runs its ops: on a GPU where TensorFlow says it uses one. */
  device: 'cpu' | 'gpu';
  /** This machine's CPU and the GPUs CUDA would show (devices.ts). */
  devices: Devices;
  /** The addon is fer's build (`fer setup native`), with list attributes and graph recording. */
  ferAddon: boolean;
  /** TensorFlow's oneDNN kernels are on (TF_ENABLE_ONEDNN_OPTS), on a CPU device. */
  oneDnn: boolean;
  /** fer's gradient and convolution kernels replace tfjs's (ReLU gradients, FerConv2D, filter and pooling gradients); FER_TFJS_GRADIENTS=1 turns them off. */
  nativeGradients: boolean;
  /** Convolution + bias (+ ReLU) runs as one TensorFlow kernel (needs fer's addon). */
  fusedConvolution: boolean;
  /** Batch norm in training runs TensorFlow's FusedBatchNormV3 and its gradient. */
  fusedBatchNorm: boolean;
  /** Weight penalties take their value from TensorFlow's L2Loss. */
  nativeWeightPenalty: boolean;
  /** Dropout and noise layers draw from TensorFlow's stateless random ops (recordable in a step). */
  statelessRandom: boolean;
  /** Adam, AdamW and SGD run as TensorFlow's fused training kernels; FER_TFJS_OPTIMIZERS=1 turns them off. */
  nativeOptimizers: boolean;
  /** Training steps can be recorded as TensorFlow functions (fer's addon); FER_GRAPH_STEPS=0 turns them off. */
  recordedSteps: boolean;
  /** The wasm backend has fer's convolution gradient kernels (wasm-kernels.ts). */
  wasmTrainingKernels: boolean;
  /** The kernels chosen where TensorFlow has two for one job (kernel-choice.ts); null off the native CPU backend. */
  kernels: EffectiveKernels | null;
}

/** The parts of tfjs-node's backend object read here (restated: tfjs's typings lack them). */
interface NodeBackend extends NativeBackend {
  isGPUPackage?: boolean;
  isUsingGpuDevice?: boolean;
  binding: NativeBackend['binding'] & { TF_Version?: string; ferGraphBegin?: unknown };
}

const PACKAGES: Record<Exclude<BackendName, 'tensorflow'>, string> = { wasm: '@tensorflow/tfjs-backend-wasm', cpu: '@tensorflow/tfjs' };

/** What `choice` comes to on a backend with or without fer's addon, oneDNN and fer's kernels. */
export function effectiveKernels(choice: KernelChoice, backend: { ferAddon: boolean; oneDnn: boolean; nativeGradients: boolean }): EffectiveKernels {
  // Without oneDNN every kernel is TensorFlow's own; without fer's kernels the runtime keeps its default (oneDNN's when on).
  const fusedConvolution = !backend.nativeGradients || !backend.ferAddon ? 'unfused' : backend.oneDnn ? choice.fusedConvolution : 'eigen';
  const largeFilterGradients = !backend.oneDnn ? 'eigen' : backend.nativeGradients ? choice.largeFilterGradients : 'onednn';
  const notes = [!backend.oneDnn ? 'oneDNN off' : '', !backend.nativeGradients ? 'FER_TFJS_GRADIENTS=1' : '', !backend.ferAddon && backend.nativeGradients ? "no fer addon" : ''].filter(Boolean);
  return { setting: choice.setting, fusedConvolution, largeFilterGradients, reason: notes.length > 0 ? `${choice.reason}; ${notes.join(', ')}` : choice.reason };
}

function compute(tf: Tf, name: string): Capabilities {
  const devices = machineDevices();
  const backendObject = tf.findBackend(name) as unknown as NodeBackend | null;
  if (name !== 'tensorflow' || !backendObject?.binding) {
    const known = name === 'wasm' || name === 'cpu' ? name : 'cpu';
    return {
      backend: known,
      native: false,
      package: PACKAGES[known],
      tensorflow: null,
      device: 'cpu',
      devices,
      ferAddon: false,
      oneDnn: false,
      nativeGradients: false,
      fusedConvolution: false,
      fusedBatchNorm: false,
      nativeWeightPenalty: false,
      statelessRandom: false,
      nativeOptimizers: false,
      recordedSteps: false,
      // wasm as shipped cannot train convolutions: it has no filter gradient kernel until fer registers one.
      wasmTrainingKernels: name === 'wasm' && tf.getKernel('Conv2DBackpropFilter', 'wasm') !== undefined,
      kernels: null,
    };
  }
  const gpu = backendObject.isUsingGpuDevice === true;
  const ferAddon = hasFerAddon(backendObject);
  const oneDnn = !gpu && oneDnnEnabled();
  const nativeGradients = process.env.FER_TFJS_GRADIENTS !== '1';
  return {
    backend: 'tensorflow',
    native: true,
    package: backendObject.isGPUPackage ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node',
    tensorflow: backendObject.binding.TF_Version ?? null,
    device: gpu ? 'gpu' : 'cpu',
    devices,
    ferAddon,
    oneDnn,
    nativeGradients,
    fusedConvolution: nativeGradients && ferAddon,
    fusedBatchNorm: true,
    nativeWeightPenalty: true,
    statelessRandom: true,
    nativeOptimizers: process.env.FER_TFJS_OPTIMIZERS !== '1',
    recordedSteps: ferAddon && typeof backendObject.binding.ferGraphBegin === 'function' && process.env.FER_GRAPH_STEPS !== '0',
    wasmTrainingKernels: false,
    // On a GPU TensorFlow picks its own (cuDNN) kernels: the CPU's choices do not apply (untested: no GPU here).
    kernels: gpu ? null : effectiveKernels(appliedKernelChoice(), { ferAddon, oneDnn, nativeGradients }),
  };
}

const computed = new WeakMap<object, Map<string, Capabilities>>();

/** The capabilities of `tf`'s active backend (computed at its first use, then kept). */
export function capabilities(tf: Tf): Capabilities {
  const name = tf.getBackend();
  let byBackend = computed.get(tf);
  if (!byBackend) computed.set(tf, (byBackend = new Map()));
  let found = byBackend.get(name);
  if (!found) byBackend.set(name, (found = compute(tf, name)));
  return found;
}
