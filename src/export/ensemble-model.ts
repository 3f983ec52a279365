import type { ImageShape } from '../core/image.js';
import type { FittedStep } from '../data/preprocess.js';
import type { CombineMethod } from '../ensemble/combine.js';
import type { SavedModelFiles } from '../store/model-io.js';
import { ExportError } from './export-error.js';
import { GraphBuilder, type LayerWeights } from './graph-builder.js';
import type { LayerJson, ModelTopology, NodeRef, WeightSpec } from './layers-json.js';
import { preprocessingLayers } from './preprocessing-layers.js';
import { toStockClasses } from './stock-layers.js';
import type { TestTimeView } from './test-time-views.js';

/** One saved model of a member, with the preprocessing it was trained with. */
export interface ExportTask {
  key: string;
  files: SavedModelFiles;
  steps: readonly FittedStep[];
}

export interface ExportMember {
  name: string;
  weight: number;
  tasks: readonly ExportTask[];
}

export interface EnsembleModelSpec {
  name: string;
  imageShape: ImageShape;
  members: readonly ExportMember[];
  method: CombineMethod;
  views: readonly TestTimeView[];
}

/** The name of the model's input layer: raw pixel values (0-255) of the run's image shape. */
export const INPUT_NAME = 'pixels';

/**
 * The whole ensemble as one functional model of stock layers, computing what SavedEnsemble.predict
 * computes: raw pixels -> each model's preprocessing -> each test-time view -> the model (its layers
 * copied under `<task key>/`, fer's classes made stock) -> the mean over views -> the mean of a
 * member's models -> the members combined by the run's method.
 */
export function ensembleModel(spec: EnsembleModelSpec): { topology: ModelTopology; weightSpecs: WeightSpec[]; weightData: Buffer } {
  const graph = new GraphBuilder();
  graph.define(INPUT_NAME, 'InputLayer', { batch_input_shape: [null, spec.imageShape.height, spec.imageShape.width, spec.imageShape.channels], dtype: 'float32', sparse: false });
  const input: NodeRef = [INPUT_NAME, 0, 0, {}];
  const viewCalls = spec.views.map((view) => view.build(graph, spec.imageShape));
  const memberOutputs = spec.members.map((member) => {
    const outputs = member.tasks.map((task) => {
      const prefix = `${task.key}/`;
      const preprocess = preprocessingLayers(graph, task.steps, spec.imageShape, prefix);
      // The views are of the model's input, after preprocessing, as the run's own predictions take
      // them (data/test-time.ts): a per-pixel mean is not mirror-symmetric, so the order matters.
      const preprocessed = preprocess(input);
      const perView = viewCalls.map((apply) => apply(preprocessed));
      const outputs = copyModel(graph, task, prefix, perView);
      return mean(graph, `${task.key}/views_mean`, outputs);
    });
    return mean(graph, `${member.name}/models_mean`, outputs);
  });
  const output = combineMembers(graph, spec.members, spec.method, memberOutputs);
  return graph.build(spec.name, INPUT_NAME, output);
}

/** The mean of several outputs (an Average layer), or the one output itself. */
function mean(graph: GraphBuilder, name: string, outputs: readonly NodeRef[]): NodeRef {
  return outputs.length === 1 ? outputs[0]! : graph.apply(name, 'Average', {}, outputs);
}

/**
 * Copies a saved model's layers into the graph under `prefix`, with their weights renamed alike,
 * and calls them once per view: the model's input is replaced by that view's preprocessed image.
 */
function copyModel(graph: GraphBuilder, task: ExportTask, prefix: string, inputs: readonly NodeRef[]): NodeRef[] {
  const topology = toStockClasses(task.files.modelTopology as ModelTopology, task.key);
  if (topology.class_name !== 'Model' || !Array.isArray(topology.config?.layers)) {
    throw new ExportError(`the saved model of ${task.key} is not a functional layers model (its class is ${String(topology.class_name)})`);
  }
  const { layers, input_layers: inputLayers, output_layers: outputLayers } = topology.config;
  if (inputLayers.length !== 1 || outputLayers.length !== 1) throw new ExportError(`the saved model of ${task.key} has ${inputLayers.length} inputs and ${outputLayers.length} outputs; export takes models with one of each`);
  const inputName = inputLayers[0]![0];
  const nodeCounts = new Map(layers.map((l) => [l.name, Math.max(1, l.inbound_nodes.length)]));
  const weights = weightsByLayer(task, layers);
  const body = layers.filter((l) => l.name !== inputName);
  for (const layer of body) graph.define(prefix + layer.name, layer.class_name, layer.config, weights.get(layer.name));
  inputs.forEach((input, view) => {
    const remap = ([name, node, tensor, kwargs]: NodeRef): NodeRef => (name === inputName ? input : [prefix + name, view * nodeCounts.get(name)! + node, tensor, kwargs]);
    for (const layer of body) for (const node of layer.inbound_nodes) graph.call(prefix + layer.name, node.map(remap));
  });
  const [outName, outNode, outTensor] = outputLayers[0]!;
  return inputs.map((_, view) => [prefix + outName, view * nodeCounts.get(outName)! + outNode, outTensor, {}]);
}

/** Each layer's weights (specs renamed under the prefix the layer gets, with their bytes). */
function weightsByLayer(task: ExportTask, layers: readonly LayerJson[]): Map<string, LayerWeights> {
  const prefix = `${task.key}/`;
  const byLayer = new Map<string, { specs: WeightSpec[]; chunks: Buffer[] }>();
  // Longest names first: a weight belongs to the layer whose name is the longest prefix of its own.
  const names = layers.map((l) => l.name).sort((a, b) => b.length - a.length);
  let offset = 0;
  for (const spec of task.files.weightSpecs as WeightSpec[]) {
    const bytes = spec.shape.reduce((a, b) => a * b, 1) * (spec.dtype === 'bool' ? 1 : 4);
    const owner = names.find((n) => spec.name.startsWith(`${n}/`));
    if (owner === undefined) throw new ExportError(`the saved model of ${task.key} has a weight \`${spec.name}\` that belongs to none of its layers`);
    const entry = byLayer.get(owner) ?? { specs: [], chunks: [] };
    entry.specs.push({ ...spec, name: prefix + spec.name });
    entry.chunks.push(task.files.weightData.subarray(offset, offset + bytes));
    byLayer.set(owner, entry);
    offset += bytes;
  }
  if (offset !== task.files.weightData.length) throw new ExportError(`the saved model of ${task.key} has ${task.files.weightData.length} bytes of weights, its manifest lists ${offset}`);
  // Views into the saved bytes: the graph copies them once, into the model's weight file.
  return new Map([...byLayer].map(([name, { specs, chunks }]) => [name, { specs, data: chunks }]));
}

/**
 * The members' probabilities combined as ensemble/combine.ts does: the mean (Average), the
 * weighted mean (each member scaled by its normalised weight, then added). The geometric mean and
 * the vote need a logarithm and an argmax, which no stock layer computes.
 */
function combineMembers(graph: GraphBuilder, members: readonly ExportMember[], method: CombineMethod, outputs: readonly NodeRef[]): NodeRef {
  if (outputs.length === 1 && (method === 'mean' || method === 'weighted_mean')) return outputs[0]!;
  if (method === 'mean') return graph.apply('ensemble/mean', 'Average', {}, outputs);
  if (method === 'weighted_mean') {
    const total = members.reduce((sum, m) => sum + m.weight, 0);
    if (!(total > 0)) throw new ExportError('the ensemble weights are all zero');
    const scaled = members.map((m, i) => graph.apply(`ensemble/weight_${m.name}`, 'Rescaling', { scale: m.weight / total, offset: 0 }, [outputs[i]!]));
    return graph.apply('ensemble/weighted_mean', 'Add', {}, scaled);
  }
  throw new ExportError(
    `the ensemble combines its members by \`${method}\`, which has no stock TensorFlow.js layer (it needs a ${method === 'vote' ? 'per-member argmax' : 'logarithm'})`,
    'export one member (--member NAME), or combine with mean or weighted_mean (ensemble.combine)',
  );
}
