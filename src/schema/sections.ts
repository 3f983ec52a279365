import { Type, type Static } from '@sinclair/typebox';
import type { Item } from '../core/item-spec.js';
import { earlyStopping } from '../registry/callbacks.js';
import { args, choice, DEFS, NAME_PATTERN, PathString, PositiveInt, ref } from '../registry/schema-helpers.js';

/**
 * The fixed parts of the document (everything but what the registry contributes). Defaults and docs
 * live here, next to the shape, so the schema, the reference in the README and the runtime agree.
 */

export const FER2013_CLASSES = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

export const ImageShape = args(
  {
    height: PositiveInt({ default: 48 }),
    width: PositiveInt({ default: 48 }),
    channels: Type.Unsafe<1 | 3>({ type: 'integer', enum: [1, 3], default: 1, description: '1 (grayscale) or 3' }),
  },
  { title: 'image shape', description: 'the size of the images the models see' },
);

export const ClassWeight = Type.Unsafe<ClassWeightConfig>({
  title: 'class weight',
  'x-expected': '`none`, `balanced`, or {majority_ratio: {noise_sigma: 0.2}}',
  description:
    '`none`, `balanced` (inverse frequency), or `{majority_ratio: {noise_sigma: 0.2}}` (the reference study: frequency of the most frequent class over the class frequency, plus seeded Gaussian noise per member)',
  default: 'none',
  if: { type: 'string' },
  then: { enum: ['none', 'balanced', 'majority_ratio'] },
  else: {
    type: 'object',
    properties: {
      majority_ratio: args(
        { noise_sigma: Type.Number({ minimum: 0, default: 0, description: 'standard deviation of the per-member noise' }) },
        { title: 'majority_ratio arguments' },
      ),
    },
    additionalProperties: false,
    minProperties: 1,
    maxProperties: 1,
  },
});
/** After loading (config/normalize.ts): a bare `majority_ratio` is written out with its noise. */
export type ClassWeightConfig = 'none' | 'balanced' | { majority_ratio: { noise_sigma: number } };

export const DataSection = args(
  {
    source: ref<Item>('source', { description: 'where the images come from: one source and its arguments, e.g. {csv: data/fer2013.csv}' }),
    classes: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 2,
      uniqueItems: true,
      default: FER2013_CLASSES,
      description: 'class names, in label order (label 0 first)',
    }),
    merge_classes: Type.Union(
      [
        Type.Record(Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1, uniqueItems: true }), { minProperties: 2 }),
        Type.Null(),
      ],
      {
        default: null,
        description:
          'train on merged classes: new class -> the classes of `classes` it takes, every one used once, in the order models predict them (e.g. positive: [happy, surprise]); class weights and metrics follow the new classes',
      },
    ),
    image: Type.Unsafe<Static<typeof ImageShape>>({ ...ImageShape, default: {} }),
    split: args(
      {
        train: Type.String({ default: 'Training', description: 'the split models are trained (and cross-validated) on' }),
        test: Type.Union([Type.String(), Type.Null()], {
          default: 'PublicTest',
          description: 'the held-out split for the final evaluation (null: none)',
        }),
        test_fraction: Type.Union([Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 }), Type.Null()], {
          default: null,
          description: 'carve the test rows out of the train split instead (seeded, stratified); needs `test: null`',
        }),
        validation_fraction: Type.Union([Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 }), Type.Null()], {
          default: null,
          description:
            'without folds: hold out this fraction of the training rows as validation (stratified, seeded); early stopping, reduce_on_plateau and the kept epoch then read them, never the test rows',
        }),
      },
      { title: 'split', default: {}, description: 'which split trains (and is cross-validated) and which tests' },
    ),
    preprocess: Type.Array(ref<Item>('preprocessing'), {
      default: [],
      description: 'steps applied to every image, in order',
    }),
    augment: Type.Array(ref<Item>('augmentation'), {
      default: [],
      description: 'random changes applied to training images only, seeded, fresh every epoch',
    }),
    class_weight: ClassWeight,
    cache: PathString({ default: 'runs/.cache', description: 'folder for the parsed-data cache' }),
  },
  { title: 'data section', description: 'where the images come from and how they are prepared' },
);

export const TrainingSection = args(
  {
    epochs: PositiveInt({ default: 10, description: 'passes over the training rows (with `stages`: their sum, whatever is written here)' }),
    stages: Type.Array(
      Type.Object(
        {
          epochs: PositiveInt({ description: 'epochs of this stage' }),
          frozen: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'layers not trained in this stage (names, `*` matches within a name), besides the model\'s own frozen ones' }),
          learning_rate: Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.Null()], { default: null, description: 'the optimizer\'s learning rate in this stage (null: the optimizer\'s own); the schedule runs within the stage' }),
        },
        { additionalProperties: false },
      ),
      {
        default: [],
        description: 'staged fine-tuning (empty: one stage): e.g. train a new head with the body frozen, then everything at a lower rate. Each stage starts a fresh optimizer; metrics carry the stage number',
      },
    ),
    batch_size: PositiveInt({ default: 32, description: 'images per gradient step' }),
    optimizer: ref<Item>('optimizer', { default: 'adam', description: 'e.g. `adam` or `{adam: {learning_rate: 1e-4}}`' }),
    loss: ref<Item>('loss', { default: 'categorical_crossentropy', description: 'the training objective' }),
    // Nullable sections are if/then/else or multi-type, not anyOf: ajv ignores (and in strict mode
    // rejects) defaults inside anyOf branches.
    schedule: Type.Unsafe<Item | null>({
      if: { type: 'null' },
      then: true,
      else: { allOf: [{ $ref: `${DEFS}/schedule` }] },
      default: null,
      description: 'how the learning rate changes: step, exponential, cosine (with warm-up), reduce_on_plateau (null: constant)',
      'x-expected': 'null or a schedule like `cosine` or {step: {every: 10, factor: 0.1}}',
    }),
    clip: Type.Unsafe<{ norm?: number; value?: number } | null>({
      ...args(
        {
          norm: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'scale all gradients down so their global norm is at most this' })),
          value: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'clip every gradient value to [-value, value]' })),
        },
        { title: 'clip' },
      ),
      type: ['object', 'null'],
      minProperties: 1,
      default: null,
      description: 'gradient clipping: {norm: 1.0} or {value: 0.5} (null: none)',
    }),
    early_stopping: Type.Unsafe<Static<typeof earlyStopping.args> | null>({
      ...earlyStopping.args,
      type: ['object', 'null'],
      default: null,
      description: 'stop when the monitored metric stops improving (null: train all epochs); the `early_stopping` callback',
    }),
    ema: Type.Unsafe<{ decay: number } | null>({
      ...args(
        { decay: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.999, description: 'weight of the running average at each step (0: the raw weights)' }) },
        { title: 'ema' },
      ),
      type: ['object', 'null'],
      default: null,
      description:
        'keep an exponential moving average of the weights, updated inside every training step: validation, the kept epoch, test predictions and the saved model use the average (null: the raw weights)',
    }),
    callbacks: Type.Array(ref<Item>('callback'), {
      default: [],
      description: 'what looks at every epoch\'s metrics and may end training (built in: early_stopping; plugins add more)',
    }),
  },
  { title: 'training section', description: 'how each member is trained' },
);

export const EvaluationSection = args(
  {
    tta: Type.Array(ref<Item>('test_time_view'), {
      default: [],
      description:
        'test-time augmentation: the views each image is predicted from, their probabilities averaged (e.g. [flip] or [{ten_crop: {size: 48, resize: 54}}]; several compose: every view of one is taken by the next); used by the test and validation predictions, `fer evaluate` and `fer predict` alike',
    }),
    combine: choice(['mean', 'geometric_mean'], { default: 'mean', description: 'how the views\' probabilities are averaged' }),
    validation_every_epoch: Type.Boolean({
      default: false,
      description: 'also use the views for the validation metrics after every epoch (costs one forward pass per view); the final predictions always use them',
    }),
    test_curve: Type.Boolean({
      default: false,
      description:
        'record the test rows\' loss and accuracy after every epoch of a fit without validation rows (a learning curve, never used to choose anything); false leaves the test rows unread until the final evaluation',
    }),
  },
  { title: 'evaluation section', description: 'how the trained models predict: test-time views, and when the test rows are read' },
);

export const EngineSection = args(
  {
    backend: choice(['auto', 'tensorflow', 'wasm', 'cpu'], {
      default: 'auto',
      description: 'auto: the native TensorFlow backend when it loads, else wasm, else cpu',
    }),
    deterministic: Type.Boolean({
      default: true,
      description: "TensorFlow's deterministic ops on the native backend (TF_DETERMINISTIC_OPS=1): the same seed gives the same metrics",
    }),
    threads: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
      default: null,
      description: 'threads for the native backend\'s ops (null: all cores)',
    }),
    graph_steps: Type.Boolean({
      default: true,
      description: 'on the native backend, run each training step as one TensorFlow function recorded from its first steps (with adam, adamw or sgd); false: op by op',
    }),
  },
  { title: 'engine section', description: 'which compute backend trains and how' },
);

export const FoldsSection = args(
  {
    k: Type.Integer({ minimum: 2, default: 5, description: 'number of folds' }),
    strategy: choice(['stratified', 'random', 'contiguous'], {
      default: 'stratified',
      description:
        '`stratified`: seeded shuffle keeping class proportions; `random`: seeded shuffle; `contiguous`: blocks in file order (the reference study)',
    }),
    final_fit: Type.Boolean({
      default: false,
      description:
        "also train each member once on all training rows; its test predictions are then that model's (otherwise the mean of its fold models)",
    }),
  },
  { title: 'folds section', description: 'k-fold cross-validation over the training split' },
);

export const EnsembleMember = args(
  {
    model: Type.String({ minLength: 1, description: 'a key of `models`' }),
    count: PositiveInt({ default: 1, description: 'how many instances (each with its own seed)' }),
    name: Type.Optional(
      Type.String({ pattern: NAME_PATTERN, description: 'instance name prefix (default: the model name)' }),
    ),
    weight: Type.Number({ minimum: 0, default: 1, description: 'weight in `weighted_mean`' }),
  },
  { title: 'ensemble member' },
);

export const EnsembleSection = args(
  {
    members: Type.Array(EnsembleMember, { minItems: 1, description: 'the models that vote, and how many of each' }),
    combine: choice(['mean', 'weighted_mean', 'geometric_mean', 'vote'], { default: 'mean', description: 'how member probabilities are combined' }),
    fit_weights: Type.Boolean({
      default: false,
      description: "with weighted_mean: fit the member weights on the out-of-fold predictions (never the test rows) instead of using `weight`",
    }),
  },
  { title: 'ensemble section', description: 'which models vote, how many of each, and how their outputs combine' },
);

export const TrackingSection = args(
  {
    uri: Type.Union([Type.String(), Type.Null()], {
      default: null,
      description: 'MLflow tracking server (default: MLFLOW_TRACKING_URI; null: record locally under runs/)',
    }),
    experiment: Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
      default: null,
      description: 'MLflow experiment (default: MLFLOW_EXPERIMENT_NAME, then the config name)',
    }),
    tags: Type.Record(Type.String(), Type.String(), { default: {}, description: 'extra tags on every run' }),
    tensorboard: Type.Optional(
      Type.Union([Type.String({ minLength: 1, format: 'path' }), Type.Null()], {
        description:
          'a TensorBoard log folder (relative: to the config file): every metric also goes there as event files, `<folder>/<config name>/<run folder>/<task>` (needs the native TensorFlow backend; `tensorboard --logdir <folder>` shows them)',
      }),
    ),
    register: Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Null()], {
      default: null,
      description:
        "a Model Registry name: when the run finishes, its ensemble (the logged model) becomes a new version of this registered model, tagged with the run's test accuracy and data digest (`fer register <run dir> <name>` does the same afterwards)",
    }),
    system_metrics_seconds: Type.Number({
      minimum: 0,
      default: 10,
      description:
        "how often each training task's run gets the machine's CPU, memory, disk and network use, under MLflow's own names (`system/cpu_utilization_percentage`, ...) so its System metrics tab shows them; 0: never",
    }),
    flush_seconds: Type.Number({
      minimum: 0,
      default: 60,
      description: 'at the end of a run, how long to wait for an unreachable server before leaving the rest in the journal for `fer sync`',
    }),
  },
  { title: 'tracking section', description: 'where runs are recorded besides runs/: an MLflow server, a TensorBoard folder' },
);

/** A template parameter: a type name, or a declaration with a default, bounds, choices and docs. */
export const PARAM_TYPES = ['integer', 'number', 'boolean', 'string', 'list', 'any'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

export const ParamDeclaration = Type.Unsafe<ParamDeclarationConfig>({
  title: 'template parameter',
  'x-expected': `a type (${PARAM_TYPES.join(', ')}) or {type: ..., default: ..., minimum: ..., maximum: ..., choices: [...], doc: ...}`,
  if: { type: 'string' },
  then: { enum: [...PARAM_TYPES] },
  else: {
    type: 'object',
    title: 'template parameter',
    properties: {
      type: { type: 'string', enum: [...PARAM_TYPES], description: 'the type of the value' },
      default: { description: 'the value when a use does not give one; without it the parameter is required' },
      minimum: { type: 'number' },
      maximum: { type: 'number' },
      choices: { type: 'array', minItems: 1, description: 'the allowed values' },
      items: { type: 'string', enum: [...PARAM_TYPES], description: 'for lists: the type of each item' },
      doc: { type: 'string', description: 'what the parameter means' },
    },
    required: ['type'],
    additionalProperties: false,
  },
});

export type ParamDeclarationConfig =
  | ParamType
  | { type: ParamType; default?: unknown; minimum?: number; maximum?: number; choices?: unknown[]; items?: ParamType; doc?: string };

export const DEFINITIONS_PREFIX = DEFS;
