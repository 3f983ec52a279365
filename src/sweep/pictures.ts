import { PNG } from 'pngjs';
import { drawText, GLYPH_HEIGHT, textWidth } from '../ensemble/bitmap-font.js';
import { isCategorical, type SearchSpace } from './space.js';
import { hasObjective, type TrialRecord } from './state.js';

/**
 * The sweep's two pictures, drawn with pngjs and fer's bitmap font (no native graphics library):
 * the objective of each trial in trial order with the best so far, and parallel coordinates (one
 * axis per parameter, one line per trial coloured from worst, red, to best, blue).
 */
type Colour = [number, number, number];

class Canvas {
  readonly png: PNG;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.png = new PNG({ width, height });
    this.png.data.fill(255);
  }

  paint(x: number, y: number, [r, g, b]: Colour): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 4;
    this.png.data[i] = r;
    this.png.data[i + 1] = g;
    this.png.data[i + 2] = b;
    this.png.data[i + 3] = 255;
  }

  line(x0: number, y0: number, x1: number, y1: number, colour: Colour): void {
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    for (let s = 0; s <= steps; s++) this.paint(x0 + ((x1 - x0) * s) / steps, y0 + ((y1 - y0) * s) / steps, colour);
  }

  dot(x: number, y: number, radius: number, colour: Colour): void {
    for (let dy = -radius; dy <= radius; dy++) for (let dx = -radius; dx <= radius; dx++) if (dx * dx + dy * dy <= radius * radius) this.paint(x + dx, y + dy, colour);
  }

  text(text: string, x: number, y: number, scale: number, colour: Colour): void {
    drawText(text, Math.round(x), Math.round(y), scale, (px, py) => this.paint(px, py, colour));
  }

  encode(): Buffer {
    return PNG.sync.write(this.png);
  }
}

const BLACK: Colour = [20, 20, 20];
const GREY: Colour = [150, 150, 150];
const BLUE: Colour = [40, 90, 200];
const ORANGE: Colour = [230, 130, 30];

function formatNumber(x: number): string {
  if (x === 0) return '0';
  const abs = Math.abs(x);
  return abs >= 1000 || abs < 0.01 ? x.toExponential(1) : x.toPrecision(3);
}

/** Trial number across, objective up: finished trials blue, pruned orange, the best so far as a line. */
export function objectivePng(trials: readonly TrialRecord[], direction: 'maximize' | 'minimize', title: string): Buffer {
  const measured = trials.filter(hasObjective);
  const canvas = new Canvas(720, 420);
  const left = 80;
  const right = 700;
  const top = 50;
  const bottom = 370;
  canvas.text(title, 10, 10, 2, BLACK);
  canvas.line(left, top, left, bottom, GREY);
  canvas.line(left, bottom, right, bottom, GREY);
  if (measured.length === 0) return canvas.encode();
  const values = measured.map((t) => t.objective);
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (low === high) [low, high] = [low - 0.5, high + 0.5];
  const last = Math.max(...trials.map((t) => t.index)) + 1;
  const x = (index: number) => left + ((index + 0.5) / last) * (right - left);
  const y = (v: number) => bottom - ((v - low) / (high - low)) * (bottom - top - 10);
  canvas.text(formatNumber(high), 4, y(high) - 3, 1, BLACK);
  canvas.text(formatNumber(low), 4, y(low) - 3, 1, BLACK);
  canvas.text('TRIAL', (left + right) / 2 - 15, bottom + 12, 1, BLACK);
  canvas.text(`1`, x(0) - 2, bottom + 4, 1, BLACK);
  canvas.text(String(last), x(last - 1) - textWidth(String(last), 1) / 2, bottom + 4, 1, BLACK);
  let best: number | undefined;
  let previous: [number, number] | undefined;
  for (const t of measured) {
    best = best === undefined ? t.objective : direction === 'maximize' ? Math.max(best, t.objective) : Math.min(best, t.objective);
    const point: [number, number] = [x(t.index), y(best)];
    if (previous) {
      canvas.line(previous[0], previous[1], point[0], previous[1], BLACK);
      canvas.line(point[0], previous[1], point[0], point[1], BLACK);
    }
    previous = point;
  }
  for (const t of measured) canvas.dot(x(t.index), y(t.objective), 4, t.state === 'pruned' ? ORANGE : BLUE);
  canvas.text('BLUE: FINISHED  ORANGE: PRUNED  LINE: BEST SO FAR', left, 400, 1, GREY);
  return canvas.encode();
}

/** One axis per parameter (at most 10), one line per measured trial, coloured by objective; a trial's line skips the axes of parameters it did not have. */
export function parallelCoordinatesPng(space: SearchSpace, trials: readonly TrialRecord[], direction: 'maximize' | 'minimize', title: string): Buffer {
  const dims = space.dimensions.slice(0, 10);
  const measured = trials.filter(hasObjective);
  const axes = dims.length + 1;
  const width = Math.max(720, axes * 130);
  const canvas = new Canvas(width, 460);
  const top = 70;
  const bottom = 400;
  const axisX = (i: number) => 60 + (i * (width - 120)) / Math.max(1, axes - 1);
  canvas.text(title, 10, 10, 2, BLACK);
  const values = measured.map((t) => t.objective);
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (!(high > low)) [low, high] = [low - 0.5, high + 0.5];
  // Each axis maps a trial's value to 0 (bottom) .. 1 (top).
  const position = dims.map((dim) => {
    const d = dim.dist;
    if (isCategorical(d)) return (v: number) => (d.options.length === 1 ? 0.5 : v / (d.options.length - 1));
    const f = d.kind === 'loguniform' ? Math.log : (v: number) => v;
    return (v: number) => (f(v) - f(d.low)) / (f(d.high) - f(d.low) || 1);
  });
  const goodness = (v: number) => (direction === 'maximize' ? (v - low) / (high - low) : (high - v) / (high - low));
  const colour = (g: number): Colour => [Math.round(220 - 180 * g), Math.round(60 + 40 * g), Math.round(40 + 180 * g)];
  const ordered = [...measured].sort((a, b) => goodness(a.objective) - goodness(b.objective));
  for (const t of ordered) {
    let previous: [number, number] | undefined;
    dims.forEach((dim, i) => {
      // An inactive parameter (another option's) is passed over: the line joins the next axis it has.
      const v = t.assignment[dim.name];
      if (v === undefined) return;
      const point: [number, number] = [axisX(i), bottom - position[i]!(v) * (bottom - top)];
      if (previous) canvas.line(previous[0], previous[1], point[0], point[1], colour(goodness(t.objective)));
      previous = point;
    });
    const end: [number, number] = [axisX(dims.length), bottom - goodness(t.objective) * (bottom - top)];
    if (previous) canvas.line(previous[0], previous[1], end[0], end[1], colour(goodness(t.objective)));
  }
  dims.forEach((dim, i) => {
    const x = axisX(i);
    canvas.line(x, top, x, bottom, GREY);
    const d = dim.dist;
    const name = dim.name.split('.').slice(-2).join('.').toUpperCase();
    canvas.text(name.slice(0, 20), x - Math.min(textWidth(name.slice(0, 20), 1), 120) / 2, bottom + 12 + (i % 2) * (GLYPH_HEIGHT + 4), 1, BLACK);
    if (isCategorical(d)) d.options.forEach((o, k) => canvas.text(o.label.slice(0, 10).toUpperCase(), x + 4, bottom - position[i]!(k) * (bottom - top) - 3, 1, BLACK));
    else {
      canvas.text(formatNumber(d.high), x + 4, top - 3, 1, BLACK);
      canvas.text(formatNumber(d.low), x + 4, bottom - 3, 1, BLACK);
    }
  });
  const x = axisX(dims.length);
  canvas.line(x, top, x, bottom, BLACK);
  canvas.text('OBJECTIVE', x - 40, bottom + 12, 1, BLACK);
  canvas.text(formatNumber(direction === 'maximize' ? high : low), x - 50, top - 12, 1, BLACK);
  canvas.text(formatNumber(direction === 'maximize' ? low : high), x - 50, bottom + 24, 1, BLACK);
  canvas.text('BLUE: BETTER  RED: WORSE', 10, 440, 1, GREY);
  return canvas.encode();
}
