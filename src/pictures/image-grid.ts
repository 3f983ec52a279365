import { pixelsDataUri } from './render.js';
import { image, rect, svgDocument, text, textWidth } from './svg.js';

/**
 * Images in a grid with a caption under each and a label at the start of each row: the most
 * confident mistakes per class, saliency maps, a data preview. Each image is enlarged with its
 * pixels kept square, so what the model saw is what the picture shows.
 */
export interface GridImage {
  pixels: ArrayLike<number>;
  width: number;
  height: number;
  channels: number;
  caption?: string;
}

export interface GridRow {
  label: string;
  images: GridImage[];
}

export function imageGridSvg(rows: readonly GridRow[], options: { title: string; subtitle?: string; cell?: number; emptyText?: string }): string {
  const cell = options.cell ?? 96;
  const captionHeight = rows.some((r) => r.images.some((i) => i.caption)) ? 30 : 6;
  const labelSize = 14;
  const left = Math.max(80, ...rows.map((r) => textWidth(r.label, labelSize) + 30));
  const top = options.subtitle ? 70 : 50;
  const columns = Math.max(1, ...rows.map((r) => r.images.length));
  const gap = 8;
  const width = Math.max(left + columns * (cell + gap) + 20, textWidth(options.title, 18, true) + 40, textWidth(options.subtitle ?? '', 13) + 40);
  const rowHeight = cell + captionHeight + gap;
  const height = top + rows.length * rowHeight + 10;
  const body: string[] = [text(20, 30, options.title, { size: 18, weight: 'bold' })];
  if (options.subtitle) body.push(text(20, 52, options.subtitle, { size: 13, fill: '#555' }));
  rows.forEach((row, r) => {
    const y = top + r * rowHeight;
    body.push(text(left - 14, y + cell / 2, row.label, { size: labelSize, anchor: 'end', baseline: 'middle', weight: 'bold' }));
    if (row.images.length === 0) body.push(text(left, y + cell / 2, options.emptyText ?? 'none', { size: 12, baseline: 'middle', fill: '#888' }));
    row.images.forEach((img, c) => {
      const x = left + c * (cell + gap);
      body.push(rect(x - 1, y - 1, cell + 2, cell + 2, 'none', '#ccc'));
      body.push(image(x, y, cell, cell, pixelsDataUri(img.pixels, img.width, img.height, img.channels)));
      if (img.caption) {
        const lines = img.caption.split('\n');
        lines.forEach((line, k) => body.push(text(x + cell / 2, y + cell + 13 + k * 13, line, { size: 11, anchor: 'middle', fill: '#333' })));
      }
    });
  });
  return svgDocument(Math.ceil(width), Math.ceil(height), body);
}
