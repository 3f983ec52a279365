import type * as tfjs from '@tensorflow/tfjs';

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
