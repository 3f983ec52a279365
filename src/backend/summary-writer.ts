import type { Tf } from '../core/tf.js';
import { startEngine } from './backend.js';

/**
 * The part of tfjs-node's API the writer uses, written out here: tfjs-node is an optional
 * dependency (its install script downloads libtensorflow, and npm drops the package when that
 * fails), so fer must build without its type declarations.
 */
interface TfNode extends Tf {
  node: { summaryFileWriter(logdir: string): { scalar(tag: string, value: number, step: number): void; flush(): void } };
}

/**
 * TensorBoard event files, written by TensorFlow's own summary writer through tfjs-node
 * (`tf.node.summaryFileWriter`): the format TensorBoard reads, from the library that defines it.
 * It needs the native backend; without it (a wasm-only install) `available` is false with the reason.
 *
 * The writer's ops run on the native backend only, so each write makes it the active backend for
 * the length of the call and then gives the process back the backend it had: loading the writer
 * changes nothing for code in the same process that trains or predicts on another backend.
 */
export interface ScalarWriter {
  /** Appends one scalar point (as float32, as TensorBoard stores it). */
  scalar(tag: string, value: number, step: number): void;
  /** Hands everything written so far to the file. */
  flush(): void;
}

export type SummaryWriters = { available: true; open(logdir: string): ScalarWriter } | { available: false; reason: string };

let loaded: Promise<SummaryWriters> | undefined;

/** The summary writers of this process (the native backend is loaded once, on the first call). */
export function loadSummaryWriters(): Promise<SummaryWriters> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<SummaryWriters> {
  const tfjs = await import('@tensorflow/tfjs');
  const previous = tfjs.getBackend();
  let tf: TfNode;
  try {
    tf = (await startEngine('tensorflow')).tf as unknown as TfNode;
  } catch (error) {
    return { available: false, reason: (error as Error).message.replace(/^the tensorflow backend is not available: /, '') };
  }
  if (previous && previous !== 'tensorflow') await tf.setBackend(previous);
  /** Runs `write` on the native backend. setBackend to an initialised backend is synchronous in tfjs 4.22: nothing else runs in between. */
  const onNative = <T>(write: () => T): T => {
    const active = tf.getBackend();
    if (active === 'tensorflow') return write();
    void tf.setBackend('tensorflow');
    if (tf.getBackend() !== 'tensorflow') throw new Error('the native backend did not become active for the summary writer');
    try {
      return write();
    } finally {
      void tf.setBackend(active);
    }
  };
  return {
    available: true,
    open(logdir: string): ScalarWriter {
      const writer = onNative(() => tf.node.summaryFileWriter(logdir));
      return {
        scalar: (tag, value, step) => onNative(() => writer.scalar(tag, value, step)),
        flush: () => onNative(() => writer.flush()),
      };
    },
  };
}
