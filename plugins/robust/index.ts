import type { FerPlugin, PluginAugmentation, PluginCallback } from '../../src/plugins/api.js';

/**
 * Two contributions of plugin API 2, for training that holds up outside the lab:
 *
 * - `robust/gamma`, an augmentation: a random gamma curve per image, v -> 255 (v / 255)^gamma with
 *   log(gamma) uniform in [-log(1 + max), log(1 + max)]. Unlike `brightness` and `contrast` (linear)
 *   it brightens or darkens the mid-tones while black stays black and white stays white: how faces
 *   look under stronger or weaker light, or from another camera's exposure curve.
 * - `robust/overfit_guard`, a training callback: stops when the validation loss has risen for
 *   `patience` epochs in a row while the training loss kept falling, the signature of overfitting,
 *   which early stopping on one metric only sees after its whole patience.
 *
 * Both are plain objects of the same shape as fer's own entries (src/registry/augmentations.ts,
 * src/registry/callbacks.ts); fer checks their arguments with the same schema pass.
 */
const gamma: PluginAugmentation = {
  type: 'gamma',
  summary: 'Random gamma curve per image (illumination and exposure changes): v -> 255 (v/255)^gamma, log(gamma) uniform in [-log(1+max), log(1+max)].',
  // Pixels stage: it changes the image itself, after the warp and the tone change, in the order listed.
  stage: 'pixels',
  args: {
    type: 'object',
    properties: {
      probability: { type: 'number', minimum: 0, maximum: 1, default: 0.5, description: 'chance of changing an image' },
      max: { type: 'number', exclusiveMinimum: 0, maximum: 4, default: 0.5, description: 'gamma lies in [1/(1+max), 1+max]' },
    },
    additionalProperties: false,
  },
  build: (args) => {
    const probability = args.probability as number;
    const logMax = Math.log(1 + (args.max as number));
    return {
      apply(image, _shape, random) {
        if (random() >= probability) return;
        const exponent = Math.exp((random() * 2 - 1) * logMax);
        for (let i = 0; i < image.length; i++) {
          const v = image[i]! / 255;
          image[i] = v <= 0 ? 0 : 255 * v ** exponent;
        }
      },
    };
  },
};

interface GuardState {
  previous: { loss: number; val_loss: number } | null;
  /** Epochs in a row with validation loss up and training loss down. */
  streak: number;
}

const overfitGuard: PluginCallback = {
  type: 'overfit_guard',
  summary: 'Stop when val_loss has risen for `patience` epochs in a row while the training loss kept falling (overfitting).',
  args: {
    type: 'object',
    properties: {
      patience: { type: 'integer', minimum: 1, default: 3, description: 'epochs in a row of diverging losses before stopping' },
      min_delta: { type: 'number', minimum: 0, default: 0, description: 'how much val_loss must rise to count' },
    },
    additionalProperties: false,
  },
  build: (args) => {
    const patience = args.patience as number;
    const minDelta = args.min_delta as number;
    return {
      initialState: (): GuardState => ({ previous: null, streak: 0 }),
      onEpochEnd(_epoch, metrics, raw) {
        const state = raw as GuardState;
        const { loss, val_loss: validation } = metrics;
        // Without validation rows (a final fit) there is nothing to guard.
        if (loss === undefined || validation === undefined) return undefined;
        const before = state.previous;
        const diverging = before !== null && validation > before.val_loss + minDelta && loss < before.loss;
        state.streak = diverging ? state.streak + 1 : 0;
        state.previous = { loss, val_loss: validation };
        return state.streak >= patience ? { stop: true } : undefined;
      },
    };
  },
};

const plugin: FerPlugin = {
  name: 'robust',
  version: '1.0.0',
  api: 2,
  description: 'A gamma (illumination) augmentation and an overfitting guard for the training loop',
  augmentations: [gamma],
  callbacks: [overfitGuard],
};

export default plugin;
