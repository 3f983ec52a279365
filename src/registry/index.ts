import { activationDefinitions, type ActivationDefinition } from './activations.js';
import { augmentationDefinitions, type AugmentationDefinition } from './augmentations.js';
import { callbackDefinitions, type CallbackDefinition } from './callbacks.js';
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
import { Registry, type DefinitionWithArgs } from './registry.js';
import { scheduleDefinitions, type ScheduleDefinition } from './schedules.js';
import { sourceDefinitions, type SourceDefinition } from './sources/index.js';
import { testTimeViewDefinitions, type TestTimeViewDefinition } from './test-time.js';

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
  readonly sources: Registry<SourceDefinition>;
  readonly callbacks: Registry<CallbackDefinition>;
  readonly testTimeViews: Registry<TestTimeViewDefinition>;
}

/**
 * The kinds a config names as items (`adam` or `{adam: {...}}`), each with its table and where
 * configs write it. The schema, normalisation and plugins go through this list, so a new kind is
 * one line here.
 */
export const ITEM_KINDS = {
  optimizer: 'optimizers',
  loss: 'losses',
  schedule: 'schedules',
  preprocessing: 'preprocessing',
  augmentation: 'augmentations',
  source: 'sources',
  callback: 'callbacks',
  initializer: 'initializers',
  test_time_view: 'testTimeViews',
} as const satisfies Record<string, keyof FerRegistry>;

export type ItemKind = keyof typeof ITEM_KINDS;

/** The table of an item kind. */
export function itemTable(registry: FerRegistry, kind: ItemKind): Registry<DefinitionWithArgs> {
  return registry[ITEM_KINDS[kind]] as unknown as Registry<DefinitionWithArgs>;
}

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
    layers.register(layer, [...(layer.keras ? [layer.keras] : []), ...(layer.aliases ?? [])]);
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
  const sources = new Registry<SourceDefinition>('data source');
  for (const d of sourceDefinitions) sources.register(d);
  const callbacks = new Registry<CallbackDefinition>('callback');
  for (const d of callbackDefinitions) callbacks.register(d);
  const testTimeViews = new Registry<TestTimeViewDefinition>('test-time view');
  for (const d of testTimeViewDefinitions) testTimeViews.register(d);
  return { plugins: [], layers, initializers, activations, optimizers, losses, preprocessing, augmentations, schedules, sources, callbacks, testTimeViews };
}

let builtin: FerRegistry | undefined;

/**
 * A registry of fer's own entries, shared: for code given a spec without the registry of a config
 * (tests, benchmarks, saved runs without plugins). Never register anything into it.
 */
export function builtinRegistry(): FerRegistry {
  builtin ??= createRegistry();
  return builtin;
}

export type {
  LayerDefinition,
  InitializerDefinition,
  ActivationDefinition,
  OptimizerDefinition,
  LossDefinition,
  PreprocessingDefinition,
  AugmentationDefinition,
  ScheduleDefinition,
  SourceDefinition,
  CallbackDefinition,
  TestTimeViewDefinition,
};
