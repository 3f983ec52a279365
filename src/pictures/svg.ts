import { FONT_FAMILY } from './render.js';

/** The few SVG pieces fer's pictures are made of. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function svgDocument(width: number, height: number, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT_FAMILY}, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

export interface TextOptions {
  size?: number;
  anchor?: 'start' | 'middle' | 'end';
  weight?: 'normal' | 'bold';
  fill?: string;
  /** Degrees, about the text's own position. */
  rotate?: number;
  baseline?: 'middle' | 'alphabetic';
}

export function text(x: number, y: number, content: string, options: TextOptions = {}): string {
  const attrs = [
    `x="${fmt(x)}"`,
    `y="${fmt(y)}"`,
    `font-size="${options.size ?? 13}"`,
    `text-anchor="${options.anchor ?? 'start'}"`,
    options.weight === 'bold' ? 'font-weight="bold"' : '',
    `fill="${options.fill ?? '#222'}"`,
    options.baseline === 'middle' ? 'dominant-baseline="central"' : '',
    options.rotate ? `transform="rotate(${options.rotate} ${fmt(x)} ${fmt(y)})"` : '',
  ].filter(Boolean);
  return `<text ${attrs.join(' ')}>${escapeXml(content)}</text>`;
}

export function rect(x: number, y: number, width: number, height: number, fill: string, stroke?: string): string {
  return `<rect x="${fmt(x)}" y="${fmt(y)}" width="${fmt(width)}" height="${fmt(height)}" fill="${fill}"${stroke ? ` stroke="${stroke}"` : ''}/>`;
}

export function image(x: number, y: number, width: number, height: number, href: string): string {
  // Pixelated: a 48x48 face enlarged stays its pixels, not a blur.
  return `<image x="${fmt(x)}" y="${fmt(y)}" width="${fmt(width)}" height="${fmt(height)}" preserveAspectRatio="none" style="image-rendering:pixelated" href="${href}"/>`;
}

export function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

/**
 * Width of text in DejaVu Sans, estimated from its advances (capitals and digits about 0.7 em,
 * lower case about 0.6, bold a tenth wider): enough to lay out labels with room to spare.
 */
export function textWidth(content: string, size: number, bold = false): number {
  let em = 0;
  for (const ch of content) em += /[A-Z0-9%@MW]/.test(ch) ? 0.72 : ch === ' ' ? 0.32 : 0.62;
  return em * size * (bold ? 1.1 : 1);
}

/** A white-to-blue scale for shares in [0, 1], and the text colour that reads on it. */
export function shareColor(share: number): { fill: string; ink: string } {
  const t = Math.max(0, Math.min(1, share));
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
  return { fill: `rgb(${mix(247, 8)},${mix(251, 48)},${mix(255, 107)})`, ink: t > 0.5 ? 'white' : '#111' };
}

/** Distinct line colours (Tableau 10). */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
