import seedrandom from 'seedrandom';
import { deriveSeed } from '../core/seed.js';

/**
 * Random streams for data work. Each purpose gets its own generator, seeded through deriveSeed
 * from the experiment (or task) seed and the purpose, e.g. folds: deriveSeed(seed, 'data', 'folds');
 * an epoch's shuffle: deriveSeed(taskSeed, 'shuffle', epoch). seedrandom's alea is fast and gives the
 * same sequence on every machine.
 */
export type Random = () => number;

export function randomStream(base: number, ...purpose: (string | number)[]): Random {
  return seedrandom.alea(String(deriveSeed(base, ...purpose)));
}

/** Fisher-Yates, in place. */
export function shuffleInPlace<T extends { [i: number]: number; length: number }>(values: T, random: Random): T {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = values[i]!;
    values[i] = values[j]!;
    values[j] = t;
  }
  return values;
}

/** A standard normal draw (Box-Muller). */
export function gaussian(random: Random): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
