import type { LayerJson, ModelTopology, NodeRef, TensorRef, WeightSpec } from './layers-json.js';

/** Bytes per element of each dtype a weight manifest can hold. */
const BYTES: Readonly<Record<WeightSpec['dtype'], number>> = { float32: 4, int32: 4, bool: 1, string: 0, complex64: 8 };

/** A layer's weight specs and their bytes in spec order, whole or as consecutive pieces (views into saved files). */
export interface LayerWeights {
  specs: readonly WeightSpec[];
  data: Buffer | readonly Buffer[];
}

/**
 * Assembles one functional layers model: layers are defined once and called any number of times
 * (a layer called again is a shared layer with another inbound node, as Keras serialises it; the
 * test-time views call every layer of a member once per view with the same weights), and the
 * weights of every layer, in the order of the manifest.
 */
export class GraphBuilder {
  private readonly layers = new Map<string, LayerJson>();
  private readonly specs: WeightSpec[] = [];
  private readonly data: Buffer[] = [];

  /** Defines a layer (not yet called) with its weights; the name must be new. */
  define(name: string, className: string, config: Record<string, unknown>, weights: LayerWeights = { specs: [], data: [] }): string {
    if (this.layers.has(name)) throw new Error(`export: two layers named ${name}`);
    const pieces = Buffer.isBuffer(weights.data) ? [weights.data] : weights.data;
    const bytes = pieces.reduce((n, b) => n + b.length, 0);
    const expected = weights.specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * BYTES[s.dtype], 0);
    if (expected !== bytes) throw new Error(`export: the weights of ${name} have ${bytes} bytes, their specs ${expected}`);
    this.layers.set(name, { name, class_name: className, config: { ...config, name }, inbound_nodes: [] });
    this.specs.push(...weights.specs);
    this.data.push(...pieces);
    return name;
  }

  /** Calls a defined layer on `inputs`; returns its output, which later calls name as their input. */
  call(name: string, inputs: readonly NodeRef[]): NodeRef {
    const layer = this.layers.get(name);
    if (!layer) throw new Error(`export: no layer named ${name}`);
    layer.inbound_nodes.push([...inputs]);
    return [name, layer.inbound_nodes.length - 1, 0, {}];
  }

  /** Defines and calls a layer without weights in one step. */
  apply(name: string, className: string, config: Record<string, unknown>, inputs: readonly NodeRef[]): NodeRef {
    return this.call(this.define(name, className, config), inputs);
  }

  has(name: string): boolean {
    return this.layers.has(name);
  }

  /** The model: its layers in the order they were defined, with the given input and output. */
  build(name: string, input: string, output: NodeRef): { topology: ModelTopology; weightSpecs: WeightSpec[]; weightData: Buffer } {
    const outputRef: TensorRef = [output[0], output[1], output[2]];
    return {
      topology: {
        class_name: 'Model',
        config: { name, layers: [...this.layers.values()], input_layers: [[input, 0, 0]], output_layers: [outputRef] },
        keras_version: 'tfjs-layers 4.22.0',
        backend: 'tensor_flow.js',
      },
      weightSpecs: [...this.specs],
      weightData: Buffer.concat(this.data),
    };
  }
}
