import seedrandom from 'seedrandom';
import { enumerateGrid, isActive, isCategorical, type Assignment, type Dimension, type SearchSpace } from './space.js';

/**
 * Samplers: what trial n tries, as a function of the seed, n and the finished trials before it (in
 * trial order) only. Nothing else feeds in (no clock, no shared random stream), so a sweep that is
 * interrupted and continued proposes exactly what it would have proposed in one go.
 */
export interface Observation {
  assignment: Assignment;
  /** Lower is better (a maximised objective is negated before it gets here). */
  loss: number;
}

export interface SamplerOptions {
  method: 'grid' | 'random' | 'tpe';
  seed: number;
  /** TPE: trials drawn at random before the model takes over. */
  startupTrials: number;
  /** TPE: the fraction of observations counted as good. */
  gamma: number;
  /** TPE: candidates drawn from the good density per dimension. */
  candidates: number;
}

type Random = () => number;

function rngFor(seed: number, trial: number, purpose: string): Random {
  return seedrandom.alea(`fer-sweep/${seed}/${trial}/${purpose}`);
}

/** Trial `trial`'s assignment (from 0); undefined when a grid is exhausted. */
export function propose(space: SearchSpace, options: SamplerOptions, trial: number, history: readonly Observation[]): Assignment | undefined {
  if (options.method === 'grid') return enumerateGrid(space)[trial];
  const random = rngFor(options.seed, trial, options.method);
  if (options.method === 'random' || history.length < options.startupTrials) return sampleRandom(space, random);
  return sampleTpe(space, options, history, random);
}

function sampleRandom(space: SearchSpace, random: Random): Assignment {
  const out: Assignment = {};
  space.dimensions.forEach((dim, i) => {
    if (isActive(space, i, out)) out[dim.name] = drawPrior(dim, random);
  });
  return out;
}

function drawPrior(dim: Dimension, random: Random): number {
  const d = dim.dist;
  if (isCategorical(d)) return Math.min(d.options.length - 1, Math.floor(random() * d.options.length));
  if (d.kind === 'uniform') return d.low + random() * (d.high - d.low);
  if (d.kind === 'loguniform') return Math.exp(Math.log(d.low) + random() * (Math.log(d.high) - Math.log(d.low)));
  const steps = Math.floor((d.high - d.low) / d.step);
  return d.low + d.step * Math.min(steps, Math.floor(random() * (steps + 1)));
}

/**
 * A Tree-structured Parzen Estimator (Bergstra et al. 2011). The observations are split into the
 * best `gamma` fraction and the rest; per dimension, a Parzen density is fitted to each side's values
 * (`l` good, `g` bad), candidates are drawn from `l`, and the one with the highest l(x)/g(x) (the
 * expected improvement is monotone in it) is taken. Dimensions are sampled parents first, so a
 * conditional dimension is only sampled when its option was chosen, from the trials in which it
 * was active: the tree structure of the name.
 */
function sampleTpe(space: SearchSpace, options: SamplerOptions, history: readonly Observation[], random: Random): Assignment {
  const sorted = [...history].sort((a, b) => a.loss - b.loss);
  const nGood = Math.max(1, Math.ceil(options.gamma * sorted.length));
  const good = sorted.slice(0, nGood);
  const bad = sorted.slice(nGood);
  const out: Assignment = {};
  space.dimensions.forEach((dim, i) => {
    if (!isActive(space, i, out)) return;
    const values = (set: readonly Observation[]) => set.flatMap((o) => (o.assignment[dim.name] === undefined ? [] : [o.assignment[dim.name]!]));
    out[dim.name] = sampleDimension(dim, values(good), values(bad), options.candidates, random);
  });
  return out;
}

function sampleDimension(dim: Dimension, good: number[], bad: number[], candidates: number, random: Random): number {
  const d = dim.dist;
  if (isCategorical(d)) {
    const l = categoricalDensity(d.options.length, good);
    const g = categoricalDensity(d.options.length, bad);
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < candidates; c++) {
      const x = drawCategorical(l, random);
      const score = Math.log(l[x]!) - Math.log(g[x]!);
      if (score > bestScore) [best, bestScore] = [x, score];
    }
    return best;
  }
  const log = d.kind === 'loguniform';
  const to = (x: number) => (log ? Math.log(x) : x);
  const from = (x: number) => (log ? Math.exp(x) : x);
  // Integers are modelled on a range widened by half a step, so each end gets a full bucket.
  const half = d.kind === 'int' ? d.step / 2 : 0;
  const low = to(d.low) - half;
  const high = to(d.high) + half;
  const l = parzen(good.map(to), low, high);
  const g = parzen(bad.map(to), low, high);
  let best = 0;
  let bestScore = -Infinity;
  for (let c = 0; c < candidates; c++) {
    let x = drawParzen(l, low, high, random);
    if (d.kind === 'int') x = d.low + d.step * Math.round((Math.min(Math.max(x, d.low), d.high) - d.low) / d.step);
    const score = Math.log(density(l, x, low, high)) - Math.log(density(g, x, low, high));
    if (score > bestScore) [best, bestScore] = [x, score];
  }
  return d.kind === 'int' ? best : Math.min(d.high, Math.max(d.low, from(best)));
}

/** Counts with one pseudo-count per option (the prior), normalised. */
function categoricalDensity(size: number, values: readonly number[]): number[] {
  const counts = Array.from({ length: size }, () => 1);
  for (const v of values) counts[v]! += 1;
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => c / total);
}

function drawCategorical(p: readonly number[], random: Random): number {
  let u = random();
  for (let i = 0; i < p.length; i++) {
    u -= p[i]!;
    if (u <= 0) return i;
  }
  return p.length - 1;
}

interface Mixture {
  means: number[];
  sigmas: number[];
  weights: number[];
}

/**
 * A Gaussian at each observation, its width the larger gap to its neighbours (clipped between the
 * range over min(100, n+1) and the range), plus a wide prior component at the centre of the range
 * weighted like one observation: with few observations the density stays broad.
 */
function parzen(values: readonly number[], low: number, high: number): Mixture {
  const range = high - low;
  const points = [...values, (low + high) / 2].map((v, i) => ({ v, prior: i === values.length }));
  const sorted = [...points].sort((a, b) => a.v - b.v);
  const minSigma = range / Math.min(100, values.length + 1);
  const means: number[] = [];
  const sigmas: number[] = [];
  sorted.forEach((p, i) => {
    means.push(p.v);
    if (p.prior) {
      sigmas.push(range);
      return;
    }
    const left = i > 0 ? p.v - sorted[i - 1]!.v : p.v - low;
    const right = i < sorted.length - 1 ? sorted[i + 1]!.v - p.v : high - p.v;
    sigmas.push(Math.min(range, Math.max(minSigma, left, right)));
  });
  const weights = means.map(() => 1 / means.length);
  return { means, sigmas, weights };
}

function drawParzen(m: Mixture, low: number, high: number, random: Random): number {
  const k = drawCategorical(m.weights, random);
  // Truncated to the range by redrawing (a few tries suffice: every component is centred inside it).
  for (let tries = 0; tries < 100; tries++) {
    const x = m.means[k]! + m.sigmas[k]! * gaussian(random);
    if (x >= low && x <= high) return x;
  }
  return Math.min(high, Math.max(low, m.means[k]!));
}

function density(m: Mixture, x: number, low: number, high: number): number {
  let p = 0;
  for (let k = 0; k < m.means.length; k++) {
    const mu = m.means[k]!;
    const s = m.sigmas[k]!;
    const mass = normalCdf((high - mu) / s) - normalCdf((low - mu) / s);
    p += (m.weights[k]! * Math.exp(-0.5 * ((x - mu) / s) ** 2)) / (s * Math.sqrt(2 * Math.PI) * Math.max(mass, 1e-12));
  }
  return Math.max(p, 1e-300);
}

function gaussian(random: Random): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function normalCdf(z: number): number {
  return 0.5 * (1 + erf(z / Math.SQRT2));
}

/** Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7). */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return sign * y;
}
