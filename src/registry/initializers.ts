import { Type, type Static, type TObject } from '@sinclair/typebox';
import type { Definition } from './registry.js';
import type { Tf, TfInitializer } from '../core/tf.js';
import { args, choice } from './schema-helpers.js';

/** How weights start. Randomised initializers get a seed derived from the experiment seed and the weight's name. */
export interface InitializerDefinition<A extends TObject = TObject> extends Definition {
  readonly keras?: string;
  readonly args: A;
  build(args: Static<A>, seed: number, tf: Tf): TfInitializer;
}

function define<A extends TObject>(d: InitializerDefinition<A>): InitializerDefinition<A> {
  return d;
}

const none = (type: string) => args({}, { title: `${type} arguments` });
const scaling = (type: string, keras: string, summary: string, build: 'glorotUniform' | 'glorotNormal' | 'heNormal' | 'heUniform' | 'leCunNormal' | 'leCunUniform') =>
  define({ type, keras, summary, args: none(type), build: (_a, seed, tf) => tf.initializers[build]({ seed }) });

export const initializerDefinitions: InitializerDefinition[] = [
  define({ type: 'zeros', keras: 'Zeros', summary: 'All zeros.', args: none('zeros'), build: (_a, _s, tf) => tf.initializers.zeros() }),
  define({ type: 'ones', keras: 'Ones', summary: 'All ones.', args: none('ones'), build: (_a, _s, tf) => tf.initializers.ones() }),
  define({
    type: 'constant',
    keras: 'Constant',
    summary: 'One value everywhere.',
    args: args({ value: Type.Number({ description: 'the value' }) }, { title: 'constant arguments' }),
    build: (a, _s, tf) => tf.initializers.constant({ value: a.value }),
  }),
  define({
    type: 'random_normal',
    keras: 'RandomNormal',
    summary: 'Normal distribution.',
    args: args(
      { mean: Type.Number({ default: 0 }), stddev: Type.Number({ exclusiveMinimum: 0, default: 0.05 }) },
      { title: 'random_normal arguments' },
    ),
    build: (a, seed, tf) => tf.initializers.randomNormal({ mean: a.mean, stddev: a.stddev, seed }),
  }),
  define({
    type: 'random_uniform',
    keras: 'RandomUniform',
    summary: 'Uniform distribution on [minval, maxval).',
    args: args({ minval: Type.Number({ default: -0.05 }), maxval: Type.Number({ default: 0.05 }) }, { title: 'random_uniform arguments' }),
    build: (a, seed, tf) => tf.initializers.randomUniform({ minval: a.minval, maxval: a.maxval, seed }),
  }),
  define({
    type: 'truncated_normal',
    keras: 'TruncatedNormal',
    summary: 'Normal distribution cut at two standard deviations.',
    args: args(
      { mean: Type.Number({ default: 0 }), stddev: Type.Number({ exclusiveMinimum: 0, default: 0.05 }) },
      { title: 'truncated_normal arguments' },
    ),
    build: (a, seed, tf) => tf.initializers.truncatedNormal({ mean: a.mean, stddev: a.stddev, seed }),
  }),
  scaling('glorot_uniform', 'GlorotUniform', 'Glorot (Xavier) uniform: scaled by fan in + fan out.', 'glorotUniform'),
  scaling('glorot_normal', 'GlorotNormal', 'Glorot (Xavier) normal.', 'glorotNormal'),
  scaling('he_normal', 'HeNormal', 'He normal: scaled by fan in, for ReLU networks.', 'heNormal'),
  scaling('he_uniform', 'HeUniform', 'He uniform.', 'heUniform'),
  scaling('lecun_normal', 'LecunNormal', 'LeCun normal, for selu networks.', 'leCunNormal'),
  scaling('lecun_uniform', 'LecunUniform', 'LeCun uniform.', 'leCunUniform'),
  define({
    type: 'variance_scaling',
    keras: 'VarianceScaling',
    summary: 'The general form of Glorot, He and LeCun initialisation.',
    args: args(
      {
        scale: Type.Number({ exclusiveMinimum: 0, default: 1 }),
        mode: choice(['fan_in', 'fan_out', 'fan_avg'], { default: 'fan_in' }),
        distribution: choice(['normal', 'uniform', 'truncated_normal'], { default: 'truncated_normal' }),
      },
      { title: 'variance_scaling arguments' },
    ),
    build: (a, seed, tf) =>
      tf.initializers.varianceScaling({
        scale: a.scale,
        mode: ({ fan_in: 'fanIn', fan_out: 'fanOut', fan_avg: 'fanAvg' } as const)[a.mode],
        distribution: ({ normal: 'normal', uniform: 'uniform', truncated_normal: 'truncatedNormal' } as const)[a.distribution],
        seed,
      }),
  }),
  define({
    type: 'orthogonal',
    keras: 'Orthogonal',
    summary: 'A random orthogonal matrix (2D weights).',
    args: args({ gain: Type.Number({ default: 1 }) }, { title: 'orthogonal arguments' }),
    build: (a, seed, tf) => tf.initializers.orthogonal({ gain: a.gain, seed }),
  }),
  define({
    type: 'identity',
    keras: 'Identity',
    summary: 'The identity matrix times gain (square 2D weights).',
    args: args({ gain: Type.Number({ default: 1 }) }, { title: 'identity arguments' }),
    build: (a, _s, tf) => tf.initializers.identity({ gain: a.gain }),
  }),
];
