import type { Definition } from './registry.js';

/** Activation functions usable as `activation:` arguments; `tfjs` is the identifier tfjs-layers takes. */
export interface ActivationDefinition extends Definition {
  readonly tfjs: string;
}

export const activationDefinitions: ActivationDefinition[] = [
  { type: 'linear', tfjs: 'linear', summary: 'The identity (no activation).' },
  { type: 'relu', tfjs: 'relu', summary: 'max(x, 0).' },
  { type: 'relu6', tfjs: 'relu6', summary: 'min(max(x, 0), 6).' },
  { type: 'elu', tfjs: 'elu', summary: 'Exponential linear unit (alpha 1).' },
  { type: 'selu', tfjs: 'selu', summary: 'Scaled exponential linear unit.' },
  { type: 'sigmoid', tfjs: 'sigmoid', summary: '1 / (1 + exp(-x)).' },
  { type: 'hard_sigmoid', tfjs: 'hardSigmoid', summary: 'Piecewise-linear sigmoid.' },
  { type: 'tanh', tfjs: 'tanh', summary: 'Hyperbolic tangent.' },
  { type: 'softmax', tfjs: 'softmax', summary: 'Softmax over the last axis.' },
  { type: 'softplus', tfjs: 'softplus', summary: 'log(1 + exp(x)).' },
  { type: 'softsign', tfjs: 'softsign', summary: 'x / (1 + |x|).' },
  { type: 'swish', tfjs: 'swish', summary: 'x * sigmoid(x) (SiLU).' },
  { type: 'mish', tfjs: 'mish', summary: 'x * tanh(softplus(x)).' },
  { type: 'gelu', tfjs: 'gelu', summary: 'Gaussian error linear unit.' },
];
