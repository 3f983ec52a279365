import { activationDefinitions, type ActivationDefinition } from './activations.js';
import { augmentationDefinitions, type AugmentationDefinition } from './augmentations.js';
import { initializerDefinitions, type InitializerDefinition } from './initializers.js';
import type { LayerDefinition } from './layer-definition.js';
import { activationLayers } from './layers/activation.js';
import { convolutionLayers } from './layers/convolution.js';
import { mergeLayers } from './layers/merge.js';
import { normalizationLayers } from './layers/normalization.js';
import { poolingLayers } from './layers/pooling.js';
import { shapeLayers } from './layers/shape.js';
import { lossDefinitions, type LossDefinition } from './losses.js';
import { optimizerDefinitions, type OptimizerDefinition } from './optimizers.js';
import { preprocessingDefinitions, type PreprocessingDefinition } from './preprocessing.js';
import { Registry } from './registry.js';
import { scheduleDefinitions, type ScheduleDefinition } from './schedules.js';

/** A plugin whose contributions are in a registry (the loader in src/plugins makes these). */
export interface RegisteredPlugin {
  plugin: { name: string; version: string; description?: string; layers?: readonly { type: string; summary: string }[] };
  /** As written in the config. */
  spec: string;
  /** The file imported. */
  source: string;
  /** Its template library, merged under the config. */
  templates?: string;
}

/** The one table of everything a config can name. The schema, the docs, the compiler and plugins all read it. */
export interface FerRegistry {
  /** Plugins loaded into this registry, in load order. */
  readonly plugins: RegisteredPlugin[];
  readonly layers: Registry<LayerDefinition>;
  readonly initializers: Registry<InitializerDefinition>;
  readonly activations: Registry<ActivationDefinition>;
  readonly optimizers: Registry<OptimizerDefinition>;
  readonly losses: Registry<LossDefinition>;
  readonly preprocessing: Registry<PreprocessingDefinition>;
  readonly augmentations: Registry<AugmentationDefinition>;
  readonly schedules: Registry<ScheduleDefinition>;
}

/** Other spellings of our layer names users are likely to bring (Keras class names, common abbreviations). */
const layerAliases: Record<string, readonly string[]> = {
  batch_norm: ['batchnorm', 'bn', 'batch_normalization'],
  layer_norm: ['layernorm', 'layer_normalization'],
  max_pool2d: ['maxpool', 'maxpool2d', 'max_pooling2d', 'maxpooling'],
  avg_pool2d: ['avgpool', 'avgpool2d', 'average_pooling2d', 'averagepooling2d'],
  global_avg_pool2d: ['global_average_pooling2d', 'gap'],
  global_max_pool2d: ['global_max_pooling2d'],
  concat: ['concatenate'],
  conv2d: ['conv', 'convolution2d'],
  dense: ['linear', 'fc', 'fully_connected'],
};

export function createRegistry(): FerRegistry {
  const layers = new Registry<LayerDefinition>('layer');
  for (const layer of [
    ...convolutionLayers,
    ...normalizationLayers,
    ...poolingLayers,
    ...shapeLayers,
    ...activationLayers,
    ...mergeLayers,
  ]) {
    layers.register(layer, [...(layer.keras ? [layer.keras] : []), ...(layerAliases[layer.type] ?? [])]);
  }
  const initializers = new Registry<InitializerDefinition>('initializer');
  for (const d of initializerDefinitions) initializers.register(d, d.keras ? [d.keras] : []);
  const activations = new Registry<ActivationDefinition>('activation');
  for (const d of activationDefinitions) activations.register(d, [d.tfjs]);
  const optimizers = new Registry<OptimizerDefinition>('optimizer');
  for (const d of optimizerDefinitions) optimizers.register(d, d.keras ? [d.keras] : []);
  const losses = new Registry<LossDefinition>('loss');
  for (const d of lossDefinitions) losses.register(d, d.keras ? [d.keras] : []);
  const preprocessing = new Registry<PreprocessingDefinition>('preprocessing step');
  for (const d of preprocessingDefinitions) preprocessing.register(d);
  const augmentations = new Registry<AugmentationDefinition>('augmentation');
  for (const d of augmentationDefinitions) augmentations.register(d);
  const schedules = new Registry<ScheduleDefinition>('schedule');
  for (const d of scheduleDefinitions) schedules.register(d);
  return { plugins: [], layers, initializers, activations, optimizers, losses, preprocessing, augmentations, schedules };
}

export type { LayerDefinition, InitializerDefinition, ActivationDefinition, OptimizerDefinition, LossDefinition, PreprocessingDefinition, AugmentationDefinition, ScheduleDefinition };
