/**
 * The TensorFlow.js layers format as JSON (what `model.json`'s `modelTopology` holds for a
 * functional model, Keras' own layout): each layer its class name, config and the nodes that feed
 * it. Export writes this format directly: a graph of stock layers is data, and writing it needs no
 * TensorFlow.js at all.
 */

/** One input of a layer call: [layer name, node index (which call of that layer), output index, kwargs]. */
export type NodeRef = [string, number, number, Record<string, unknown>];

export interface LayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  /** One entry per call of the layer: the tensors that call received. */
  inbound_nodes: NodeRef[][];
}

/** A model's inputs or outputs: [layer name, node index, output index]. */
export type TensorRef = [string, number, number];

export interface ModelTopology {
  class_name: 'Model';
  config: { name: string; layers: LayerJson[]; input_layers: TensorRef[]; output_layers: TensorRef[] };
  keras_version: string;
  backend: string;
}

/** A weight as the manifest lists it: its name (`<layer>/<weight>`), shape and dtype, in byte order. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool' | 'string' | 'complex64';
}

