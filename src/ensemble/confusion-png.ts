import { PNG } from 'pngjs';
import { drawText, GLYPH_HEIGHT, textWidth } from './bitmap-font.js';

/**
 * The confusion matrix as a PNG heatmap: rows are true classes, columns predicted ones, each cell
 * coloured by the share of its row (recall on the diagonal) and labelled with that percentage and
 * the count. Drawn with pngjs and a bitmap font, so no native graphics library is needed.
 */
export function confusionPng(confusion: readonly (readonly number[])[], classNames: readonly string[], title: string): Buffer {
  const classes = classNames.length;
  const cell = 64;
  const scale = 2;
  const labelWidth = Math.max(...classNames.map((n) => textWidth(n, scale))) + 16;
  const top = 70;
  const footer = 'ROWS: TRUE CLASS   COLUMNS: PREDICTED   CELL: SHARE OF ROW, COUNT';
  const width = Math.max(labelWidth + classes * cell + 20, textWidth(title, scale) + 20, textWidth(footer, 1) + 20);
  const height = top + classes * cell + 60;
  const png = new PNG({ width, height });
  png.data.fill(255);
  const paint = (x: number, y: number, [r, g, b]: [number, number, number]) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const i = (y * width + x) * 4;
    png.data[i] = r;
    png.data[i + 1] = g;
    png.data[i + 2] = b;
    png.data[i + 3] = 255;
  };
  const ink = (colour: [number, number, number]) => (x: number, y: number) => paint(x, y, colour);
  const black: [number, number, number] = [20, 20, 20];
  const white: [number, number, number] = [255, 255, 255];

  drawText(title, 10, 10, scale, ink(black));
  drawText('TRUE \\ PREDICTED', 10, 10 + (GLYPH_HEIGHT + 4) * scale, 1, ink([90, 90, 90]));
  classNames.forEach((name, c) => {
    // Column labels: abbreviated to fit the cell; row labels in full.
    const short = name.slice(0, 4);
    drawText(short, labelWidth + c * cell + (cell - textWidth(short, scale)) / 2, top - 22, scale, ink(black));
    drawText(name, 8, top + c * cell + (cell - GLYPH_HEIGHT * scale) / 2, scale, ink(black));
  });
  confusion.forEach((row, r) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((count, c) => {
      const share = total === 0 ? 0 : count / total;
      // White to deep blue by share.
      const colour: [number, number, number] = [Math.round(255 - 225 * share), Math.round(255 - 170 * share), Math.round(255 - 60 * share)];
      const x0 = labelWidth + c * cell;
      const y0 = top + r * cell;
      for (let y = 1; y < cell - 1; y++) for (let x = 1; x < cell - 1; x++) paint(x0 + x, y0 + y, colour);
      const textColour = share > 0.5 ? white : black;
      const percent = `${Math.round(share * 100)}%`;
      drawText(percent, x0 + (cell - textWidth(percent, scale)) / 2, y0 + 14, scale, ink(textColour));
      const n = String(count);
      drawText(n, x0 + (cell - textWidth(n, 1)) / 2, y0 + 40, 1, ink(textColour));
    });
  });
  drawText(footer, 10, height - 30, 1, ink([90, 90, 90]));
  return PNG.sync.write(png);
}
