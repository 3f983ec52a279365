import { svgToPng } from '../pictures/render.js';
import { svgDocument, text, textWidth } from '../pictures/svg.js';
import { isCategorical, type SearchSpace } from './space.js';
import { hasObjective, type TrialRecord } from './state.js';

/**
 * The sweep's two pictures, drawn as SVG with the pictures' pieces (real font, full parameter names)
 * and rendered to PNG: the objective of each trial in trial order with the best so far, and parallel
 * coordinates (one axis per parameter, one line per trial coloured from worst, red, to best, blue).
 */
type Colour = [number, number, number];

const BLACK = '#141414';
const GREY = '#969696';
const BLUE: Colour = [40, 90, 200];
const ORANGE: Colour = [230, 130, 30];

const css = ([r, g, b]: Colour) => `rgb(${r},${g},${b})`;
const line = (x0: number, y0: number, x1: number, y1: number, stroke: string, width = 1.5) =>
  `<line x1="${x0.toFixed(1)}" y1="${y0.toFixed(1)}" x2="${x1.toFixed(1)}" y2="${y1.toFixed(1)}" stroke="${stroke}" stroke-width="${width}"/>`;
const dot = (x: number, y: number, r: number, fill: string) => `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${r}" fill="${fill}"/>`;

function formatNumber(x: number): string {
  if (x === 0) return '0';
  const abs = Math.abs(x);
  return abs >= 1000 || abs < 0.01 ? x.toExponential(1) : x.toPrecision(3);
}

/** A label cut to fit a width, with an ellipsis where it was cut. */
function fit(label: string, width: number, size: number): string {
  if (textWidth(label, size) <= width) return label;
  let cut = label;
  while (cut.length > 1 && textWidth(`${cut}…`, size) > width) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** Trial number across, objective up: finished trials blue, pruned orange, the best so far as a line. */
export function objectivePng(trials: readonly TrialRecord[], direction: 'maximize' | 'minimize', title: string): Buffer {
  return svgToPng(objectiveSvg(trials, direction, title));
}

export function objectiveSvg(trials: readonly TrialRecord[], direction: 'maximize' | 'minimize', title: string): string {
  const measured = trials.filter(hasObjective);
  const [width, height] = [720, 420];
  const [left, right, top, bottom] = [80, 700, 50, 370];
  const body = [text(12, 28, title, { size: 16, weight: 'bold' }), line(left, top, left, bottom, GREY, 1), line(left, bottom, right, bottom, GREY, 1)];
  body.push(text((left + right) / 2, bottom + 34, 'trial', { anchor: 'middle' }));
  body.push(text(18, (top + bottom) / 2, `objective (${direction === 'maximize' ? 'higher is better' : 'lower is better'})`, { anchor: 'middle', rotate: -90, size: 12 }));
  body.push(text(left, 405, '● finished', { fill: css(BLUE), size: 12 }), text(left + 90, 405, '● pruned', { fill: css(ORANGE), size: 12 }), text(left + 170, 405, '— best so far', { size: 12 }));
  if (measured.length > 0) {
    const values = measured.map((t) => t.objective);
    let low = Math.min(...values);
    let high = Math.max(...values);
    if (low === high) [low, high] = [low - 0.5, high + 0.5];
    const last = Math.max(...trials.map((t) => t.index)) + 1;
    const x = (index: number) => left + ((index + 0.5) / last) * (right - left);
    const y = (v: number) => bottom - ((v - low) / (high - low)) * (bottom - top - 10);
    body.push(text(left - 6, y(high), formatNumber(high), { anchor: 'end', baseline: 'middle', size: 11 }));
    body.push(text(left - 6, y(low), formatNumber(low), { anchor: 'end', baseline: 'middle', size: 11 }));
    body.push(text(x(0), bottom + 16, '1', { anchor: 'middle', size: 11 }));
    if (last > 1) body.push(text(x(last - 1), bottom + 16, String(last), { anchor: 'middle', size: 11 }));
    let best: number | undefined;
    let previous: [number, number] | undefined;
    for (const t of measured) {
      best = best === undefined ? t.objective : direction === 'maximize' ? Math.max(best, t.objective) : Math.min(best, t.objective);
      const point: [number, number] = [x(t.index), y(best)];
      if (previous) body.push(line(previous[0], previous[1], point[0], previous[1], BLACK), line(point[0], previous[1], point[0], point[1], BLACK));
      previous = point;
    }
    for (const t of measured) body.push(dot(x(t.index), y(t.objective), 5, css(t.state === 'pruned' ? ORANGE : BLUE)));
  }
  return svgDocument(width, height, body);
}

/** One axis per parameter (at most 10), one line per measured trial, coloured by objective; a trial's line skips the axes of parameters it did not have. */
export function parallelCoordinatesPng(space: SearchSpace, trials: readonly TrialRecord[], direction: 'maximize' | 'minimize', title: string): Buffer {
  return svgToPng(parallelCoordinatesSvg(space, trials, direction, title));
}

export function parallelCoordinatesSvg(space: SearchSpace, trials: readonly TrialRecord[], direction: 'maximize' | 'minimize', title: string): string {
  const dims = space.dimensions.slice(0, 10);
  const measured = trials.filter(hasObjective);
  const axes = dims.length + 1;
  const width = Math.max(720, axes * 150);
  const height = 480;
  const [top, bottom] = [70, 400];
  const axisX = (i: number) => 70 + (i * (width - 160)) / Math.max(1, axes - 1);
  const spacing = (width - 160) / Math.max(1, axes - 1);
  const body = [text(12, 28, title, { size: 16, weight: 'bold' })];
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
  const colour = (g: number): string => css([Math.round(220 - 180 * g), Math.round(60 + 40 * g), Math.round(40 + 180 * g)]);
  const ordered = [...measured].sort((a, b) => goodness(a.objective) - goodness(b.objective));
  for (const t of ordered) {
    const points: [number, number][] = [];
    dims.forEach((dim, i) => {
      // An inactive parameter (another option's) is passed over: the line joins the next axis it has.
      const v = t.assignment[dim.name];
      if (v !== undefined) points.push([axisX(i), bottom - position[i]!(v) * (bottom - top)]);
    });
    points.push([axisX(dims.length), bottom - goodness(t.objective) * (bottom - top)]);
    body.push(`<polyline points="${points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ')}" fill="none" stroke="${colour(goodness(t.objective))}" stroke-width="3"/>`);
  }
  dims.forEach((dim, i) => {
    const x = axisX(i);
    body.push(line(x, top, x, bottom, GREY, 1));
    const d = dim.dist;
    body.push(text(x, bottom + 20 + (i % 2) * 16, fit(dim.name, spacing * 1.8, 12), { anchor: 'middle', size: 12 }));
    if (isCategorical(d)) d.options.forEach((o, k) => body.push(text(x + 5, bottom - position[i]!(k) * (bottom - top), fit(o.label, spacing - 10, 11), { baseline: 'middle', size: 11 })));
    else {
      body.push(text(x + 5, top - 6, formatNumber(d.high), { size: 11 }));
      body.push(text(x + 5, bottom - 4, formatNumber(d.low), { size: 11 }));
    }
  });
  const x = axisX(dims.length);
  body.push(line(x, top, x, bottom, BLACK, 1));
  body.push(text(x, bottom + 20, 'objective', { anchor: 'middle', size: 12, weight: 'bold' }));
  body.push(text(x, top - 6, formatNumber(direction === 'maximize' ? high : low), { anchor: 'middle', size: 11 }));
  body.push(text(x, bottom + 52, formatNumber(direction === 'maximize' ? low : high), { anchor: 'middle', size: 11 }));
  body.push(text(12, height - 12, 'blue: better', { fill: css([40, 100, 220]), size: 12 }), text(100, height - 12, 'red: worse', { fill: css([220, 60, 40]), size: 12 }));
  return svgDocument(width, height, body);
}
