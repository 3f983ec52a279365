import type { InitConfig } from '../compile/initial-weights.js';
import type { Static } from '@sinclair/typebox';
import type { ItemSpec } from '../registry/schema-helpers.js';
import type {
  DataSection,
  EngineSection,
  EnsembleSection,
  FoldsSection,
  ParamDeclarationConfig,
  TrackingSection,
  TrainingSection,
} from '../schema/sections.js';

/**
 * The resolved configuration: after `extends`, environment substitution, `--set` overrides and
 * schema validation with defaults filled in. Paths are absolute.
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
}

export type { ItemSpec };
