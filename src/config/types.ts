import type { Static } from '@sinclair/typebox';
import type { Item, ItemSpec } from '../core/item-spec.js';
import type {
  DataSection,
  EngineSection,
  EvaluationSection,
  EnsembleSection,
  FoldsSection,
  ParamDeclarationConfig,
  TrackingSection,
  TrainingSection,
} from '../schema/sections.js';

/**
 * The resolved configuration: after `extends`, environment substitution, `--set` overrides,
 * schema validation with defaults filled in and normalisation (every item written out with all its
 * arguments: config/normalize.ts). Paths are absolute.
 */
export type LayerArgs = Record<string, unknown> | null;

/** One item of a layer list: a bare layer name (`flatten`), or a map with one layer type or `use`. */
export type LayerEntry = string | LayerEntryMap;

export interface LayerEntryMap {
  use?: string;
  with?: Record<string, unknown>;
  name?: string;
  input?: string;
  inputs?: string[];
  if?: boolean | string;
  repeat?: number | string;
  trainable?: boolean;
  doc?: string;
  /** The layer type and its arguments: `conv2d: {filters: 32, ...}`. */
  [layerType: string]: unknown;
}

/**
 * Where a model's starting weights come from (`models.<name>.init`): a member of a finished fer
 * run, or any TensorFlow.js LayersModel on disk (model.json + weight files, e.g. a Keras model
 * converted with tensorflowjs_converter). Read synchronously, so compiling stays a pure function
 * of the config and these files.
 */
export interface InitConfig {
  /** A fer run folder, or an experiment's folder of runs (its best finished run). */
  run?: string;
  /** With `run`: a member name (`cnn-3`), or `best` (highest out-of-fold accuracy). */
  member?: string;
  /** A tfjs model.json on disk, or at an http(s) URL (downloaded once into fer's cache). */
  model?: string;
  /** New layer name -> layer name in the source, where they differ. */
  map?: Record<string, string>;
  /** Layers not to load (names, `*` matches within a name). */
  exclude?: string[];
  /** Allow layers with no counterpart in the source (they keep their fresh initial weights). */
  partial?: boolean;
}

export interface ModelConfig {
  doc?: string;
  input?: number[];
  layers: LayerEntry[];
  init?: InitConfig;
  /** Layer names (or `*` patterns) whose weights are not trained. */
  frozen?: string[];
}

export interface TemplateConfig {
  doc?: string;
  params?: Record<string, ParamDeclarationConfig>;
  layers: LayerEntry[];
}

export type DataConfig = Static<typeof DataSection>;
export type TrainingConfig = Static<typeof TrainingSection>;
export type FoldsConfig = Static<typeof FoldsSection>;
export type EnsembleConfig = Static<typeof EnsembleSection>;
export type TrackingConfig = Static<typeof TrackingSection>;
export type EngineConfig = Static<typeof EngineSection>;
export type EvaluationConfig = Static<typeof EvaluationSection>;

export interface FerConfig {
  name: string;
  description?: string;
  seed: number;
  data?: DataConfig;
  models: Record<string, ModelConfig>;
  templates: Record<string, TemplateConfig>;
  /** Plugin specs as written (paths or package names). */
  plugins: string[];
  training: TrainingConfig;
  folds?: FoldsConfig;
  ensemble?: EnsembleConfig;
  tracking: TrackingConfig;
  engine: EngineConfig;
  evaluation: EvaluationConfig;
}

export type { Item, ItemSpec };
