import type { Tf } from '../core/tf.js';
import { startEngine } from './backend.js';

/**
 * TensorFlow.js for building graphs (validate, compile): any backend will do, so the pure-JS cpu
 * backend, which needs no native library and starts fastest. Training starts its backend with
 * startEngine instead.
 */
let loaded: Promise<Tf> | undefined;

export function loadTf(): Promise<Tf> {
  loaded ??= startEngine('cpu').then((engine) => engine.tf);
  return loaded;
}
