import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../../core/tf.js';
import { FerError } from '../../core/errors.js';
import { capabilities } from '../capabilities.js';
import type { NativeBackend, NativeBinding } from './native-backend.js';

/**
 * A training step run as one TensorFlow function on the native backend. tfjs-node runs a step op by
 * op: TensorFlow sees one kernel at a time, and every output is a fresh buffer handed back to JS.
 * A Keras graph hands TensorFlow's runtime the whole step (its graph rewrites, its scheduling, its
 * buffers reused in place). Here the step's JS runs once with fer's addon recording every op into a
 * TensorFlow graph instead of executing it; the graph becomes a function of the eager context, and
 * later steps are one call of it.
 *
 * What the recording cannot see is guarded, not assumed:
 * - every tensor the step reads is classified: one of the step's inputs (the batch), a tfjs variable
 *   (its value at each call), a per-step value (`stepTensor`: the learning rate, a dropout layer's
 *   seed, read again at each call), a value made during the step from JS numbers (folded into the function as a constant), or
 *   a tensor that existed before (passed again at each call, the same tensor);
 * - the step is recorded at two consecutive steps and used only if both recordings are identical,
 *   constants' values included: a value that changes from step to step without going through
 *   `stepScalar` (a dropout mask drawn in JS, a counter) shows up as a difference, and the step stays
 *   eager, saying why. That check is about the step's code, so it is made once (the verdict): other
 *   batch shapes are recorded once and used, and a run resumed from a checkpoint carries the verdict
 *   over (every step of a run then runs the same way as in an uninterrupted run, bit for bit);
 * - the first step runs eagerly (it creates the optimizer's state); steps of another batch shape
 *   (the last, partial batch) are recorded separately;
 * - an op whose output shape TensorFlow cannot infer, or a value read back into JS inside the step,
 *   ends the recording: the step runs eagerly from then on, and the reason is reported once.
 * Variables the step assigns (weights, moving statistics) become the function's outputs and are
 * assigned from them after each call.
 */

interface GraphBinding extends NativeBinding {
  executeOp(name: string, attrs: unknown[], inputs: number[], outputs: number): OutputInfo[];
  createTensor(shape: number[], dtype: number, values: unknown): number;
  tensorDataSync(id: number): ArrayLike<number | bigint>;
  deleteTensor(id: number): void;
  TF_RESOURCE: number;
  ferGraphBegin(): void;
  ferGraphAbort(): void;
  ferGraphCapture(id: number, handleDtype?: number, handleShape?: number[]): OutputInfo;
  ferGraphConstant(id: number): OutputInfo;
  ferGraphOp(name: string, attrs: unknown[], inputs: (number | number[])[], outputs: number): OutputInfo[];
  ferGraphFinish(name: string, outputs: number[]): void;
  ferGraphRemove(name: string): void;
}

interface OutputInfo {
  id: number;
  shape: number[] | null;
  dtype: number;
}

interface TensorData {
  id: number;
  values: unknown;
  shape: number[];
  dtype: number;
}

interface RecordingBackend extends NativeBackend {
  binding: GraphBinding;
  tensorMap: { get(dataId: object): TensorData | undefined };
  getInputTensorIds(tensors: tfjs.Tensor[]): number[];
  createOutputTensor(info: OutputInfo): tfjs.Tensor;
}

/** What one input of a recorded function is at each call. */
type Capture =
  | { kind: 'input'; index: number }
  | { kind: 'variable'; variable: tfjs.Variable }
  | { kind: 'step'; read: () => StepValue; dtype: 'float32' | 'int32' }
  | { kind: 'pinned'; tensor: tfjs.Tensor };

interface RecordedStep {
  name: string;
  signature: string;
  captures: Capture[];
  /** How many of the outputs the step returned; the rest are the assigned variables' new values. */
  stepOutputs: number;
  assigned: tfjs.Variable[];
  /** The per-step values while recording (that step's call passes these). */
  recordedValues: Map<Capture, StepValue>;
}

/** Ops whose inputs include a list argument: how the flat inputs tfjs-node passes group into arguments. */
// 'one' is a single tensor, 'list' the rest of the inputs, 'none' an empty list (eager ops leave out
// list arguments of length zero, a graph node names them).
const LIST_ARGUMENTS: Record<string, ('one' | 'list' | 'none')[]> = {
  AddN: ['list'],
  ConcatV2: ['list', 'one'],
  Pack: ['list'],
  IdentityN: ['list'],
  _FusedConv2D: ['one', 'one', 'list', 'none'],
  _MklNativeFusedConv2D: ['one', 'one', 'list', 'none'],
};

/**
 * Outputs that only other TensorFlow ops read (FusedBatchNormV3's reserve space for its gradient),
 * whose shape TensorFlow leaves open in a graph: tfjs is told an empty shape, which nothing in JS reads.
 */
const OPAQUE_OUTPUTS: Record<string, number[]> = { FusedBatchNormV3: [5] };

function groupInputs(op: string, ids: number[]): (number | number[])[] {
  const layout = LIST_ARGUMENTS[op];
  if (!layout) return ids;
  const singles = layout.filter((part) => part === 'one').length;
  const grouped: (number | number[])[] = [];
  let at = 0;
  for (const part of layout) {
    if (part === 'list') {
      const length = ids.length - singles;
      grouped.push(ids.slice(at, at + length));
      at += length;
    } else if (part === 'none') {
      grouped.push([]);
    } else {
      grouped.push(ids[at++]!);
    }
  }
  return grouped;
}

export class GraphRecordingError extends FerError {
  constructor(message: string) {
    super(message);
    this.name = 'GraphRecordingError';
  }
}

/** A per-step value: a scalar, or a short vector (a random seed). */
type StepValue = number | number[];

interface ActiveRecording {
  stepValues: Map<object, { read: () => StepValue; dtype: 'float32' | 'int32' }>;
}
let active: ActiveRecording | null = null;
/**
 * Whether ops are being recorded into a graph: fer's kernels then ask for TensorFlow's public ops,
 * not oneDNN's internal ones (which have no shape functions for a graph); the graph's own rewrite
 * passes pick oneDNN's kernels there, as they do for Keras.
 */
export function recordingGraph(): boolean {
  return active !== null;
}

export interface RecordedStepHooks {
  /** Before each call of a recorded step (eager work the step would have done first). */
  before?: () => void;
  /** After each call, with the tfjs variables it assigned. */
  after?: (variables: readonly tfjs.Variable[]) => void;
}
const hooks = new Set<RecordedStepHooks>();

/**
 * For state kept beside tfjs's (the native optimizer's TensorFlow variables): told around every call
 * of a recorded step, where the JS of the step does not run. Returns the unsubscribe.
 */
export function onRecordedStepCalls(hook: RecordedStepHooks): () => void {
  hooks.add(hook);
  return () => hooks.delete(hook);
}

/** Resource handles' variable shapes (TensorFlow needs them to infer what reading the variable gives). */
const resourceShapes = new WeakMap<object, number[]>();

/**
 * A value that changes from step to step (the learning rate, a random seed): within a recorded step,
 * an input of the function, read again before every call; otherwise just a tensor of `read()`.
 */
export function stepTensor(tf: Tf, read: () => StepValue, dtype: 'float32' | 'int32' = 'float32'): tfjs.Tensor {
  const tensor = makeStepTensor(tf, read(), dtype);
  active?.stepValues.set(tensor.dataId, { read, dtype });
  return tensor;
}

/** A per-step scalar (see stepTensor). */
export function stepScalar(tf: Tf, read: () => number): tfjs.Scalar {
  return stepTensor(tf, read) as tfjs.Scalar;
}

function makeStepTensor(tf: Tf, value: StepValue, dtype: 'float32' | 'int32'): tfjs.Tensor {
  return Array.isArray(value) ? tf.tensor1d(value, dtype) : tf.scalar(value, dtype);
}

/** Says which variable shape a resource handle (a `VarHandleOp` output) holds. */
export function describeResourceHandle(handle: tfjs.Tensor, shape: number[]): void {
  resourceShapes.set(handle.dataId, shape);
}

/** Whether the active backend can run recorded steps (the native backend with fer's current addon; see capabilities.ts). */
export function graphStepsAvailable(tf: Tf): boolean {
  return capabilities(tf).recordedSteps;
}

let functionCounter = 0;

export type GraphStepVerdict = 'graph' | 'eager';

export class GraphStepRunner {
  private readonly backend: RecordingBackend;
  private readonly binding: GraphBinding;
  private readonly steps = new Map<string, { pending?: RecordedStep; ready?: RecordedStep; eagerCalls: number }>();
  private disabledReason: string | undefined;
  private readonly functions: string[] = [];
  private prepared = false;
  private verified = false;

  /**
   * `prepare` creates the state the step would create at its first run (the optimizer's slots), so
   * that even the first step can be recorded; without it the first step of each shape runs eagerly.
   * `onFallback` hears once why steps stay eager (a recording failed or differed).
   */
  constructor(
    private readonly tf: Tf,
    private readonly options: { prepare?: () => void; onFallback?: (reason: string) => void; verdict?: GraphStepVerdict } = {},
  ) {
    this.backend = tf.backend() as unknown as RecordingBackend;
    this.binding = this.backend.binding;
    if (options.verdict === 'graph') this.verified = true;
    if (options.verdict === 'eager') this.disabledReason = 'an earlier part of this run found that its steps cannot be recorded';
  }

  /**
   * 'graph' once two recordings agreed, 'eager' once steps fell back, undefined before either: kept
   * with a checkpoint, so that a resumed run decides as the uninterrupted one did.
   */
  get verdict(): GraphStepVerdict | undefined {
    return this.disabledReason !== undefined ? 'eager' : this.verified ? 'graph' : undefined;
  }

  /** Why steps run eagerly, when they do. */
  get fallbackReason(): string | undefined {
    return this.disabledReason;
  }

  /**
   * Runs one training step: `step` reads `inputs` (and the model's variables) and returns the
   * tensors the caller wants (loss, metrics), which the caller disposes.
   */
  run(inputs: tfjs.Tensor[], step: () => tfjs.Tensor[]): tfjs.Tensor[] {
    if (this.disabledReason !== undefined) return step();
    const key = inputs.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(' ');
    const entry = this.steps.get(key) ?? { eagerCalls: 0 };
    this.steps.set(key, entry);
    if (entry.ready) return this.call(entry.ready, inputs, false);
    if (this.options.prepare) {
      if (!this.prepared) this.options.prepare();
      this.prepared = true;
    } else if (entry.eagerCalls === 0) {
      // Without `prepare`, the first step of each shape runs eagerly: it creates the optimizer's slots.
      entry.eagerCalls++;
      return step();
    }
    let recorded: RecordedStep;
    try {
      recorded = this.record(inputs, step);
    } catch (error) {
      this.disable(`recording the step failed: ${(error as Error).message}`);
      // Nothing of the recorded step ran, and recording changes no state outside TensorFlow's
      // variables (restored above), so the step can run eagerly as if never recorded.
      return step();
    }
    if (this.verified) {
      // Verified on another shape: the code is the same, one recording of this shape is enough.
      if (entry.pending) this.drop(entry.pending);
      entry.pending = undefined;
      entry.ready = recorded;
    } else if (entry.pending) {
      if (entry.pending.signature === recorded.signature) {
        this.verified = true;
        entry.ready = recorded;
        this.drop(entry.pending);
      } else {
        const outputs = this.call(recorded, inputs, true);
        this.drop(entry.pending);
        this.drop(recorded);
        this.disable(`the step differs between two consecutive steps (${describeDifference(entry.pending.signature, recorded.signature)}): it depends on values that change from step to step outside its inputs`);
        entry.pending = undefined;
        return outputs;
      }
      entry.pending = undefined;
    } else {
      entry.pending = recorded;
    }
    return this.call(recorded, inputs, true);
  }

  /** Unregisters the recorded functions and releases the tensors they were pinned to. */
  dispose(): void {
    for (const entry of this.steps.values()) {
      for (const recorded of [entry.pending, entry.ready]) if (recorded) this.drop(recorded);
    }
    this.steps.clear();
  }

  private disable(reason: string): void {
    if (this.disabledReason !== undefined) return;
    this.disabledReason = reason;
    this.options.onFallback?.(reason);
  }

  /** Unregisters a recorded function and releases the tensors it was pinned to. */
  private drop(recorded: RecordedStep): void {
    const at = this.functions.indexOf(recorded.name);
    if (at >= 0) {
      this.functions.splice(at, 1);
      this.binding.ferGraphRemove(recorded.name);
    }
    for (const capture of recorded.captures) if (capture.kind === 'pinned') capture.tensor.dispose();
  }

  private call(recorded: RecordedStep, inputs: tfjs.Tensor[], recording: boolean): tfjs.Tensor[] {
    const tf = this.tf;
    for (const hook of hooks) hook.before?.();
    const stepValues: tfjs.Tensor[] = [];
    const ids = recorded.captures.map((capture) => {
      switch (capture.kind) {
        case 'input':
          return this.idOf(inputs[capture.index]!);
        case 'variable':
          return this.idOf(capture.variable);
        case 'pinned':
          return this.idOf(capture.tensor);
        case 'step': {
          const value = makeStepTensor(tf, recording ? recorded.recordedValues.get(capture)! : capture.read(), capture.dtype);
          stepValues.push(value);
          return this.idOf(value);
        }
      }
    });
    const outputCount = recorded.stepOutputs + recorded.assigned.length;
    let infos: OutputInfo[];
    try {
      infos = this.binding.executeOp(recorded.name, [], ids, outputCount);
    } finally {
      tf.dispose(stepValues);
    }
    const outputs = infos.map((info) => this.backend.createOutputTensor(info));
    recorded.assigned.forEach((variable, k) => {
      const value = outputs[recorded.stepOutputs + k]!;
      variable.assign(value);
      value.dispose();
    });
    for (const hook of hooks) hook.after?.(recorded.assigned);
    return outputs.slice(0, recorded.stepOutputs);
  }

  private idOf(tensor: tfjs.Tensor): number {
    return this.backend.getInputTensorIds([tensor])[0]!;
  }

  private record(inputs: tfjs.Tensor[], step: () => tfjs.Tensor[]): RecordedStep {
    const tf = this.tf;
    const backend = this.backend;
    const binding = this.binding;
    const variables = Object.values(tf.engine().registeredVariables) as tfjs.Variable[];
    const before = new Map(variables.map((v) => [v, v.dataId] as const));
    // Keeps each variable's current value alive: assigning a variable inside the step drops its reference.
    const kept = variables.map((v) => tf.keep(tf.clone(v)));
    const variableByData = new Map<object, tfjs.Variable>(variables.map((v) => [v.dataId, v]));
    const inputIndex = new Map<object, number>(inputs.map((t, i) => [t.dataId, i]));
    const recording: ActiveRecording = { stepValues: new Map() };
    const captures: Capture[] = [];
    const recordedValues = new Map<Capture, StepValue>();
    const symbolOf = new Map<object, number>();
    const signature: string[] = [];
    const originalIds = backend.getInputTensorIds;
    const originalBinding = backend.binding;

    const capture = (tensor: tfjs.Tensor, what: Capture, info: TensorData): number => {
      const eagerId = originalIds.call(backend, [tensor])[0]!;
      const handleShape = info.dtype === binding.TF_RESOURCE ? resourceShapes.get(tensor.dataId) : undefined;
      const symbol = (handleShape ? binding.ferGraphCapture(eagerId, binding.TF_FLOAT, handleShape) : binding.ferGraphCapture(eagerId)).id;
      captures.push(what);
      signature.push(`capture ${symbol} ${what.kind}${what.kind === 'input' ? what.index : what.kind === 'variable' ? ` ${what.variable.name}` : what.kind === 'pinned' ? ` #${eagerId}` : ''}`);
      return symbol;
    };
    const constant = (eagerId: number): number => {
      const symbol = binding.ferGraphConstant(eagerId).id;
      const values = binding.tensorDataSync(eagerId);
      signature.push(`constant ${symbol} ${Array.from(values, String).join(',')}`);
      return symbol;
    };
    const symbolFor = (tensor: tfjs.Tensor): number => {
      const known = symbolOf.get(tensor.dataId);
      if (known !== undefined) return known;
      const info = backend.tensorMap.get(tensor.dataId);
      if (!info) throw new GraphRecordingError('a tensor used by the step was disposed');
      // tfjs-node keeps values made in JS until an op first takes them.
      const unwritten = info.values !== null && info.values !== undefined;
      if (!unwritten && info.id < 0) return info.id; // recorded in this step
      let symbol: number;
      const index = inputIndex.get(tensor.dataId);
      const variable = variableByData.get(tensor.dataId);
      const stepValue = recording.stepValues.get(tensor.dataId);
      if (index !== undefined) symbol = capture(tensor, { kind: 'input', index }, info);
      else if (variable) symbol = capture(tensor, { kind: 'variable', variable }, info);
      else if (stepValue) {
        const what: Capture = { kind: 'step', ...stepValue };
        const values = Array.from(tensor.dataSync() as Float32Array | Int32Array);
        recordedValues.set(what, tensor.rank === 0 ? values[0]! : values);
        symbol = capture(tensor, what, info);
      } else if (unwritten) {
        // Made from JS numbers (during the step, or before and never used): folded in as a constant.
        symbol = constant(originalIds.call(backend, [tensor])[0]!);
      } else {
        symbol = capture(tensor, { kind: 'pinned', tensor: tf.keep(tf.clone(tensor)) }, info);
      }
      symbolOf.set(tensor.dataId, symbol);
      return symbol;
    };

    const name = `fer_training_step_${process.pid}_${functionCounter++}`;
    const recordingBinding: GraphBinding = Object.create(originalBinding, {
      executeOp: {
        value: (op: string, attrs: unknown[], ids: number[], outputCount: number): OutputInfo[] => {
          // Ids that are not symbols were made by createTensor during the step (tfjs-node's int64 scalars).
          const symbols = ids.map((id) => (id >= 0 ? constant(id) : id));
          const infos = binding.ferGraphOp(op, attrs, groupInputs(op, symbols), outputCount);
          signature.push(`${op} ${JSON.stringify(attrs)} (${symbols.join(' ')}) -> ${infos.map((i) => i.id).join(' ')}`);
          infos.forEach((info, index) => {
            if ((!info.shape || info.shape.some((d) => d < 0)) && OPAQUE_OUTPUTS[op]?.includes(index)) info.shape = [0];
          });
          for (const info of infos) {
            if (!info.shape || info.shape.some((d) => d < 0)) {
              throw new GraphRecordingError(`TensorFlow cannot infer the output shape of ${op} (${info.shape ? `[${info.shape.join(', ')}]` : 'unknown rank'})`);
            }
          }
          return infos;
        },
      },
      tensorDataSync: {
        value: (id: number) => {
          if (id < 0) throw new GraphRecordingError('the step reads a value it computes back into JS');
          return originalBinding.tensorDataSync(id);
        },
      },
    });

    for (const hook of hooks) hook.before?.();
    binding.ferGraphBegin();
    active = recording;
    backend.binding = recordingBinding;
    backend.getInputTensorIds = (tensors: tfjs.Tensor[]) => tensors.map(symbolFor);
    let outputs: tfjs.Tensor[] = [];
    try {
      outputs = step();
      const assigned = variables.filter((v) => v.dataId !== before.get(v));
      const outputSymbols = [...outputs, ...assigned].map(symbolFor);
      binding.ferGraphFinish(name, outputSymbols);
      this.functions.push(name);
      return { name, signature: signature.join('\n'), captures, stepOutputs: outputs.length, assigned, recordedValues };
    } catch (error) {
      binding.ferGraphAbort();
      for (const c of captures) if (c.kind === 'pinned') c.tensor.dispose();
      throw error;
    } finally {
      active = null;
      backend.binding = originalBinding;
      backend.getInputTensorIds = originalIds;
      tf.dispose(outputs);
      // Back to the values before the step: the recording assigned symbols, not values.
      variables.forEach((v, i) => {
        if (v.dataId !== before.get(v)) v.assign(kept[i]!);
      });
      tf.dispose(kept);
    }
  }
}

/** The first line where two recordings differ, for the report. */
function describeDifference(a: string, b: string): string {
  const left = a.split('\n');
  const right = b.split('\n');
  let at = 0;
  while (at < left.length && left[at] === right[at]) at++;
  const show = (line: string | undefined) => (line === undefined ? 'nothing' : `\`${line.slice(0, 120)}\``);
  return `recorded line ${at + 1}: ${show(left[at])}, then ${show(right[at])}`;
}
