import type * as tfjs from '@tensorflow/tfjs';
import { addonPatchDigest } from './addon-patch.js';

/**
 * The parts of tfjs-node's backend object that fer's native kernels use: its binding's attribute
 * and type codes, and running any TensorFlow op by name (public on the object, absent from tfjs's
 * typings, hence restated here once for every module of the engine that needs it).
 */
export interface NativeBinding {
  TF_ATTR_TYPE: number;
  TF_ATTR_INT: number;
  TF_ATTR_FLOAT: number;
  TF_ATTR_STRING: number;
  TF_ATTR_BOOL: number;
  TF_ATTR_SHAPE: number;
  TF_FLOAT: number;
  TF_INT32: number;
  /** The digest of fer's additions, in addons built by `fer setup native` (see native-addon-patch.ts). */
  ferAddon?: number;
}

export interface NativeBackend {
  binding: NativeBinding;
  executeSingleOutput(name: string, attrs: unknown[], inputs: tfjs.Tensor[]): tfjs.Tensor;
  executeMultipleOutputs(name: string, attrs: unknown[], inputs: tfjs.Tensor[], outputs: number): tfjs.Tensor[];
}

/** The `T: float` attribute most ops take. */
export function floatTypeAttr(b: NativeBinding): { name: string; type: number; value: number } {
  return { name: 'T', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT };
}

/**
 * Whether the addon is the one `fer setup native` builds, with fer's current additions (list-valued
 * attributes, which TensorFlow's fused kernels take); tfjs-node's prebuilt addon works without them.
 */
export function hasFerAddon(backend: NativeBackend): boolean {
  return backend.binding.ferAddon === addonPatchDigest();
}

/** Whether TensorFlow's oneDNN kernels are on (fer turns them on unless TF_ENABLE_ONEDNN_OPTS=0). */
export function oneDnnEnabled(): boolean {
  return process.env.TF_ENABLE_ONEDNN_OPTS !== '0';
}
