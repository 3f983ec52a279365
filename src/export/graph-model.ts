import { ExportError } from './export-error.js';
import type { LayerJson, ModelTopology, NodeRef, WeightSpec } from './layers-json.js';

/**
 * The exported layers model rewritten as a TensorFlow graph (a GraphDef as JSON, the `modelTopology`
 * of a tfjs graph model, `tf.loadGraphModel`): each stock layer becomes the TensorFlow ops that
 * compute it at inference, its weights become Const nodes whose values the weights manifest holds
 * under the node's name. Every layer class the shipped configs and the export itself use is
 * covered; any other is an ExportError naming it (the layers format still exports it).
 */
export interface GraphDefNode {
  name: string;
  op: string;
  input: string[];
  attr: Record<string, unknown>;
}

const FLOAT = { type: 'DT_FLOAT' };
const b64 = (text: string) => Buffer.from(text, 'latin1').toString('base64');
const ints = (values: readonly number[]) => ({ list: { i: values.map(String) } });

interface ConstValue {
  spec: WeightSpec;
  data: Buffer;
}

export function graphModel(layers: ModelTopology, weightSpecs: readonly WeightSpec[], weightData: Buffer): { nodes: GraphDefNode[]; weightSpecs: WeightSpec[]; weightData: Buffer; output: string } {
  const weights = new Map<string, Buffer>();
  let offset = 0;
  for (const spec of weightSpecs) {
    const bytes = spec.shape.reduce((a, b) => a * b, 1) * 4;
    weights.set(spec.name, weightData.subarray(offset, offset + bytes));
    offset += bytes;
  }
  const nodes: GraphDefNode[] = [];
  const consts: ConstValue[] = [];
  const constNames = new Set<string>();

  const node = (name: string, op: string, input: string[], attr: Record<string, unknown> = {}): string => {
    nodes.push({ name, op, input, attr });
    return name;
  };
  const constant = (name: string, shape: number[], data: Buffer, dtype: 'float32' | 'int32' = 'float32'): string => {
    if (constNames.has(name)) return name;
    constNames.add(name);
    const dt = dtype === 'float32' ? 'DT_FLOAT' : 'DT_INT32';
    consts.push({ spec: { name, shape, dtype }, data });
    return node(name, 'Const', [], { dtype: { type: dt }, value: { tensor: { dtype: dt, tensorShape: { dim: shape.map((size) => ({ size: String(size) })) } } } });
  };
  const floats = (name: string, values: readonly number[], shape: number[] = [values.length]) => {
    const data = Buffer.alloc(values.length * 4);
    values.forEach((v, i) => data.writeFloatLE(v, i * 4));
    return constant(name, shape, data);
  };
  const int32s = (name: string, values: readonly number[]) => {
    const data = Buffer.alloc(values.length * 4);
    values.forEach((v, i) => data.writeInt32LE(v, i * 4));
    return constant(name, [values.length], data, 'int32');
  };
  const weight = (layer: LayerJson, which: string): string => {
    const name = `${layer.name}/${which}`;
    const data = weights.get(name);
    const spec = weightSpecs.find((s) => s.name === name);
    if (!data || !spec) throw new ExportError(`tfjs-graph: the layer \`${layer.name}\` has no weight \`${which}\``);
    return constant(name, spec.shape, data);
  };

  const tensorName = ([layer, call]: NodeRef | [string, number, number]): string => (call === 0 ? layer : `${layer}/call_${call}`);
  const activation = (name: string, x: string, kind: unknown, where: string): string => {
    switch (kind ?? 'linear') {
      case 'linear':
        return x;
      case 'relu':
        return node(name, 'Relu', [x], { T: FLOAT });
      case 'relu6':
        return node(name, 'Relu6', [x], { T: FLOAT });
      case 'elu':
        return node(name, 'Elu', [x], { T: FLOAT });
      case 'selu':
        return node(name, 'Selu', [x], { T: FLOAT });
      case 'tanh':
        return node(name, 'Tanh', [x], { T: FLOAT });
      case 'sigmoid':
        return node(name, 'Sigmoid', [x], { T: FLOAT });
      case 'softplus':
        return node(name, 'Softplus', [x], { T: FLOAT });
      case 'softmax':
        return node(name, 'Softmax', [x], { T: FLOAT });
      default:
        throw new ExportError(`tfjs-graph: the activation \`${String(kind)}\` of \`${where}\` is not converted to graph ops yet`, 'export with --format tfjs-layers');
    }
  };
  const padding = (value: unknown) => ({ s: b64(String(value ?? 'valid').toUpperCase()) });
  const pair = (value: unknown, fallback: number[]): number[] => (value === null || value === undefined ? fallback : Array.isArray(value) ? (value as number[]) : [value as number, value as number]);

  for (const layer of layers.config.layers) {
    const c = layer.config;
    if (layer.class_name === 'InputLayer') {
      const shape = (c.batch_input_shape as (number | null)[]).map((d) => ({ size: String(d ?? -1) }));
      node(layer.name, 'Placeholder', [], { dtype: FLOAT, shape: { shape: { dim: shape } } });
      continue;
    }
    layer.inbound_nodes.forEach((inbound, call) => {
      const out = tensorName([layer.name, call, 0]);
      const xs = inbound.map(tensorName);
      const x = xs[0]!;
      const step = (suffix: string) => `${out}/op_${suffix}`;
      // The layer's last op gets the layer's tensor name; intermediate ops get suffixes.
      const finish = (last: (name: string) => string): void => void last(out);
      switch (layer.class_name) {
        case 'Conv2D': {
          const strides = pair(c.strides, [1, 1]);
          const dilations = pair(c.dilation_rate, [1, 1]);
          const conv = node(step('conv'), 'Conv2D', [x, weight(layer, 'kernel')], { T: FLOAT, strides: ints([1, strides[0]!, strides[1]!, 1]), dilations: ints([1, dilations[0]!, dilations[1]!, 1]), padding: padding(c.padding), data_format: { s: b64('NHWC') } });
          const biased = c.use_bias === false ? conv : node(step('bias'), 'BiasAdd', [conv, weight(layer, 'bias')], { T: FLOAT, data_format: { s: b64('NHWC') } });
          finish((name) => node(name, 'Identity', [activation(step('activation'), biased, c.activation, layer.name)], { T: FLOAT }));
          break;
        }
        case 'Dense': {
          // BatchMatMulV2 broadcasts the kernel over leading axes, as a Dense layer on a rank-3+ input does (the flip view).
          const product = node(step('matmul'), 'BatchMatMulV2', [x, weight(layer, 'kernel')], { T: FLOAT, adj_x: { b: false }, adj_y: { b: false } });
          const biased = c.use_bias === false ? product : node(step('bias'), 'BiasAdd', [product, weight(layer, 'bias')], { T: FLOAT });
          finish((name) => node(name, 'Identity', [activation(step('activation'), biased, c.activation, layer.name)], { T: FLOAT }));
          break;
        }
        case 'Activation':
          finish((name) => node(name, 'Identity', [activation(step('activation'), x, c.activation, layer.name)], { T: FLOAT }));
          break;
        case 'ReLU': {
          if (typeof c.maxValue === 'number' || typeof c.max_value === 'number') throw new ExportError(`tfjs-graph: the ReLU \`${layer.name}\` has a max value, not converted to graph ops yet`, 'export with --format tfjs-layers');
          finish((name) => node(name, 'Relu', [x], { T: FLOAT }));
          break;
        }
        case 'BatchNormalization': {
          const axis = c.axis as number;
          if (axis !== -1 && axis !== 3 && !(axis === 1 && layers.config.layers.some((l) => l.name === inbound[0]![0] && l.class_name === 'Reshape'))) {
            throw new ExportError(`tfjs-graph: the batch norm \`${layer.name}\` normalises axis ${axis}; only the last axis is converted`);
          }
          const mean = weight(layer, 'moving_mean');
          const variance = weight(layer, 'moving_variance');
          const size = weightSpecs.find((s) => s.name === `${layer.name}/moving_mean`)!.shape[0]!;
          const gamma = c.scale === false ? floats(`${layer.name}/ones`, new Array<number>(size).fill(1)) : weight(layer, 'gamma');
          const beta = c.center === false ? floats(`${layer.name}/zeros`, new Array<number>(size).fill(0)) : weight(layer, 'beta');
          // x * (gamma / sqrt(var + eps)) + (beta - mean * that): tfjs's batchNorm, written with elementwise ops so it works on any rank.
          const eps = floats(`${layer.name}/epsilon`, [c.epsilon as number], []);
          const inv = node(step('inv'), 'Rsqrt', [node(step('var_eps'), 'AddV2', [variance, eps], { T: FLOAT })], { T: FLOAT });
          const centred = node(step('centred'), 'Sub', [x, mean], { T: FLOAT });
          const scaled = node(step('scaled'), 'Mul', [node(step('normalised'), 'Mul', [centred, inv], { T: FLOAT }), gamma], { T: FLOAT });
          finish((name) => node(name, 'AddV2', [scaled, beta], { T: FLOAT }));
          break;
        }
        case 'MaxPooling2D':
        case 'AveragePooling2D': {
          const size = pair(c.pool_size, [2, 2]);
          const strides = pair(c.strides ?? c.pool_size, size);
          finish((name) => node(name, layer.class_name === 'MaxPooling2D' ? 'MaxPool' : 'AvgPool', [x], { T: FLOAT, ksize: ints([1, size[0]!, size[1]!, 1]), strides: ints([1, strides[0]!, strides[1]!, 1]), padding: padding(c.padding), data_format: { s: b64('NHWC') } }));
          break;
        }
        case 'GlobalAveragePooling2D':
        case 'GlobalMaxPooling2D':
          finish((name) => node(name, layer.class_name === 'GlobalAveragePooling2D' ? 'Mean' : 'Max', [x, int32s(`${layer.name}/axes`, [1, 2])], { T: FLOAT, Tidx: { type: 'DT_INT32' }, keep_dims: { b: false } }));
          break;
        case 'Flatten': {
          // [batch, -1] with the batch size read from the input at run time (its other sizes are known only to the layers).
          const shape = node(step('shape'), 'Shape', [x], { T: FLOAT, out_type: { type: 'DT_INT32' } });
          const one = int32s(`${layer.name}/one`, [1]);
          const batch = node(step('batch'), 'StridedSlice', [shape, int32s(`${layer.name}/zero`, [0]), one, one], { T: { type: 'DT_INT32' }, Index: { type: 'DT_INT32' }, begin_mask: { i: '0' }, end_mask: { i: '0' }, ellipsis_mask: { i: '0' }, new_axis_mask: { i: '0' }, shrink_axis_mask: { i: '1' } });
          const rest = constant(`${layer.name}/rest`, [], int32Scalar(-1), 'int32');
          const target = node(step('target'), 'Pack', [batch, rest], { T: { type: 'DT_INT32' }, N: { i: '2' }, axis: { i: '0' } });
          finish((name) => node(name, 'Reshape', [x, target], { T: FLOAT, Tshape: { type: 'DT_INT32' } }));
          break;
        }
        case 'Cropping2D': {
          // [[top, bottom], [left, right]] (Keras also writes one number, or [rows, columns]), as a strided slice
          // of the image axes; an edge cropped by 0 runs to the end (its end mask bit), as -0 would not.
          const raw = c.cropping as number | number[] | number[][];
          const [[top, bottom], [left, right]] = typeof raw === 'number' ? [[raw, raw], [raw, raw]] : raw.map((r) => (typeof r === 'number' ? [r, r] : r)) as [[number, number], [number, number]];
          const endMask = 1 | 8 | (bottom === 0 ? 2 : 0) | (right === 0 ? 4 : 0);
          const begin = int32s(`${layer.name}/begin`, [0, top!, left!, 0]);
          const end = int32s(`${layer.name}/end`, [0, -bottom!, -right!, 0]);
          const strides = int32s(`${layer.name}/strides`, [1, 1, 1, 1]);
          finish((name) => node(name, 'StridedSlice', [x, begin, end, strides], { T: FLOAT, Index: { type: 'DT_INT32' }, begin_mask: { i: '9' }, end_mask: { i: String(endMask) }, ellipsis_mask: { i: '0' }, new_axis_mask: { i: '0' }, shrink_axis_mask: { i: '0' } }));
          break;
        }
        case 'Reshape':
          finish((name) => node(name, 'Reshape', [x, int32s(`${layer.name}/shape`, [-1, ...(c.target_shape as number[])])], { T: FLOAT, Tshape: { type: 'DT_INT32' } }));
          break;
        case 'Permute':
          finish((name) => node(name, 'Transpose', [x, int32s(`${layer.name}/perm`, [0, ...(c.dims as number[])])], { T: FLOAT, Tperm: { type: 'DT_INT32' } }));
          break;
        case 'Dropout':
        case 'GaussianNoise':
        case 'GaussianDropout':
        case 'AlphaDropout':
          finish((name) => node(name, 'Identity', [x], { T: FLOAT }));
          break;
        case 'Add':
          finish((name) => node(name, 'AddN', xs, { T: FLOAT, N: { i: String(xs.length) } }));
          break;
        case 'Average': {
          const sum = node(step('sum'), 'AddN', xs, { T: FLOAT, N: { i: String(xs.length) } });
          finish((name) => node(name, 'Mul', [sum, floats(`${layer.name}/reciprocal`, [1 / xs.length], [])], { T: FLOAT }));
          break;
        }
        case 'Concatenate':
          finish((name) => node(name, 'ConcatV2', [...xs, constant(`${layer.name}/axis`, [], int32Scalar((c.axis as number) ?? -1), 'int32')], { T: FLOAT, N: { i: String(xs.length) }, Tidx: { type: 'DT_INT32' } }));
          break;
        case 'Rescaling': {
          const scaled = node(step('scale'), 'Mul', [x, floats(`${layer.name}/scale`, [c.scale as number], [])], { T: FLOAT });
          finish((name) => node(name, 'AddV2', [scaled, floats(`${layer.name}/offset`, [(c.offset as number) ?? 0], [])], { T: FLOAT }));
          break;
        }
        case 'LayerNormalization': {
          if (c.center !== false || c.scale !== false) throw new ExportError(`tfjs-graph: the layer normalisation \`${layer.name}\` has a scale or offset; only fer's standardize is converted`);
          const axes = int32s(`${layer.name}/axes`, (c.axis as number[]).map((a) => (a < 0 ? a + 4 : a)));
          const mean = node(step('mean'), 'Mean', [x, axes], { T: FLOAT, Tidx: { type: 'DT_INT32' }, keep_dims: { b: true } });
          const variance = node(step('variance'), 'Mean', [node(step('squares'), 'SquaredDifference', [x, mean], { T: FLOAT }), axes], { T: FLOAT, Tidx: { type: 'DT_INT32' }, keep_dims: { b: true } });
          const inv = node(step('inv'), 'Rsqrt', [node(step('var_eps'), 'AddV2', [variance, floats(`${layer.name}/epsilon`, [c.epsilon as number], [])], { T: FLOAT })], { T: FLOAT });
          finish((name) => node(name, 'Mul', [node(step('centred'), 'Sub', [x, mean], { T: FLOAT }), inv], { T: FLOAT }));
          break;
        }
        default:
          throw new ExportError(`tfjs-graph: the layer \`${layer.name}\` (${layer.class_name}) is not converted to graph ops yet`, 'export with --format tfjs-layers (the default), which keeps every stock layer');
      }
    });
  }
  const [outLayer, outCall, outTensor] = layers.config.output_layers[0]!;
  const output = node('probabilities', 'Identity', [tensorName([outLayer, outCall, outTensor])], { T: FLOAT });
  return { nodes, weightSpecs: consts.map((c) => c.spec), weightData: Buffer.concat(consts.map((c) => c.data)), output };
}

function int32Scalar(value: number): Buffer {
  const data = Buffer.alloc(4);
  data.writeInt32LE(value, 0);
  return data;
}
