import { describe, expect, it } from 'vitest';
import { createAugmenter } from '../../src/data/augment.js';
import { randomStream } from '../../src/data/random.js';

const shape = { height: 8, width: 8, channels: 1 };
const image = () => Float32Array.from({ length: 64 * 3 }, (_, i) => (i * 37) % 256);

describe('augmentation', () => {
  it('is the same for the same seed and differs across epochs', () => {
    const augmenter = createAugmenter([{ rotate: { max_degrees: 15 } }, 'shift', 'zoom', 'flip_horizontal', 'brightness', 'contrast', 'random_erasing'])!;
    const run = (epoch: number) => {
      const data = image();
      augmenter.apply(data, 3, shape, randomStream(42, 'augment', epoch));
      return Array.from(data);
    };
    expect(run(0)).toEqual(run(0));
    expect(run(1)).not.toEqual(run(0));
    expect(run(0).every((v) => v >= 0 && v <= 255)).toBe(true);
  });

  it('flips left-right exactly', () => {
    const data = Float32Array.from({ length: 16 }, (_, i) => i);
    createAugmenter([{ flip_horizontal: { probability: 1 } }])!.apply(data, 1, { height: 4, width: 4, channels: 1 }, () => 0);
    expect(Array.from(data.slice(0, 4))).toEqual([3, 2, 1, 0]);
  });

  it('leaves the image unchanged when the draws are neutral', () => {
    const data = image();
    const before = Array.from(data);
    // random() = 0.5 gives rotation 0, zoom 1, shift 0, brightness 0, contrast 1; 0.99 skips flip.
    let call = 0;
    createAugmenter(['shift', 'rotate', 'zoom', 'brightness', 'contrast'])!.apply(data, 3, shape, () => (call++ % 2 === 0 ? 0.5 : 0.5));
    expect(Array.from(data).map((v) => Math.round(v * 1000) / 1000)).toEqual(before);
  });

  it('erases a rectangle', () => {
    const data = new Float32Array(64);
    createAugmenter([{ random_erasing: { probability: 1, min_area: 0.25, max_area: 0.25 } }])!.apply(data, 1, shape, randomStream(3, 'x'));
    const changed = data.filter((v) => v !== 0).length;
    expect(changed).toBeGreaterThan(8);
    expect(changed).toBeLessThanOrEqual(24);
  });
});
