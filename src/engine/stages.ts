import type * as tfjs from '@tensorflow/tfjs';
import { GraphStepRunner, graphStepsAvailable, type GraphStepVerdict } from '../backend/native/graph-step.js';
import type { TrainingConfig } from '../config/types.js';
import { matchesAny } from '../core/patterns.js';
import type { Tf, TfOptimizer } from '../core/tf.js';
import type { FerRegistry } from '../registry/index.js';
import type { Schedule } from '../registry/schedules.js';
import { stageOptimizer } from './optimizer.js';

export interface StagesOptions {
  tf: Tf;
  registry: FerRegistry;
  model: tfjs.LayersModel;
  training: TrainingConfig;
  /** false: never record steps as TensorFlow functions. */
  graphSteps?: boolean;
  onNotice?: (message: string) => void;
}

/**
 * The stages of training (training.stages; without them, one). Each freezes its layers on top of
 * the model's own and starts a fresh optimizer at its own rate, as recompiling does in Keras, with
 * the schedule running within the stage. A stage also owns the recorded training step
 * (graph-step.ts): it holds that stage's optimizer and weights, so a new stage records anew.
 */
export class Stages {
  /** Whether training.stages is used (epoch metrics then carry the stage number). */
  readonly staged: boolean;
  private readonly plan: readonly { epochs: number; frozen: readonly string[]; learning_rate: number | null }[];
  private readonly starts: number[];
  private readonly alwaysFrozen: Set<tfjs.layers.Layer>;
  index = -1;
  optimizer!: TfOptimizer;
  baseRate = 0;
  schedule!: Schedule;
  variables: tfjs.Variable[] = [];
  graphSteps: GraphStepRunner | undefined;
  // Carried across stages and from a checkpoint: whether the steps could be recorded was decided once.
  private graphVerdict: GraphStepVerdict | undefined;

  constructor(private readonly options: StagesOptions) {
    const { training, model } = options;
    this.staged = training.stages.length > 0;
    this.plan = this.staged ? training.stages : [{ epochs: training.epochs, frozen: [], learning_rate: null }];
    this.starts = this.plan.map((_, i) => this.plan.slice(0, i).reduce((sum, s) => sum + s.epochs, 0));
    this.alwaysFrozen = new Set(model.layers.filter((l) => !l.trainable));
  }

  /** The stage an epoch (from 0) belongs to. */
  stageOf(epoch: number): number {
    return Math.max(0, this.starts.findLastIndex((start) => epoch >= start));
  }

  /** The epoch within the current stage. */
  epochInStage(epoch: number): number {
    return epoch - this.starts[this.index]!;
  }

  enter(index: number): void {
    const { tf, model, training, registry } = this.options;
    const stage = this.plan[index]!;
    this.index = index;
    for (const layer of model.layers) layer.trainable = !this.alwaysFrozen.has(layer) && !matchesAny(stage.frozen, layer.name);
    this.optimizer?.dispose();
    ({ optimizer: this.optimizer, baseRate: this.baseRate, schedule: this.schedule } = stageOptimizer(tf, registry, training, stage));
    this.variables = model.trainableWeights.map((w) => w.read() as tfjs.Variable);
    this.startGraphSteps();
  }

  /** Continues with the verdict a checkpoint recorded (recorded or op by op). */
  resumeGraphSteps(verdict: GraphStepVerdict): void {
    this.graphVerdict = verdict;
    this.startGraphSteps();
  }

  /** Whether the steps run as recorded functions, once decided. */
  verdict(): GraphStepVerdict | undefined {
    return this.graphSteps?.verdict ?? this.graphVerdict;
  }

  dispose(): void {
    this.graphSteps?.dispose();
    this.optimizer.dispose();
  }

  private startGraphSteps(): void {
    const { tf, graphSteps, onNotice } = this.options;
    this.graphVerdict = this.graphSteps?.verdict ?? this.graphVerdict;
    this.graphSteps?.dispose();
    this.graphSteps = undefined;
    const preparable = this.optimizer as unknown as { prepare?: (variables: readonly tfjs.Variable[]) => void };
    if (graphSteps !== false && graphStepsAvailable(tf) && typeof preparable.prepare === 'function') {
      const stageVariables = this.variables;
      this.graphSteps = new GraphStepRunner(tf, {
        prepare: () => preparable.prepare!(stageVariables),
        ...(this.graphVerdict ? { verdict: this.graphVerdict } : {}),
        onFallback: (reason) => onNotice?.(`training steps run op by op from here on: ${reason}`),
      });
    }
  }
}
