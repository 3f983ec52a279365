import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { confusionSvg } from '../../src/pictures/confusion.js';
import { learningCurvesSvg } from '../../src/pictures/curves.js';
import { imageGridSvg } from '../../src/pictures/image-grid.js';
import { svgToPng } from '../../src/pictures/render.js';

const CLASSES = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

/** Share of pixels that are dark (text, lines) in a PNG. */
function darkShare(png: PNG): number {
  let dark = 0;
  for (let i = 0; i < png.width * png.height; i++) if (png.data[i * 4]! < 80 && png.data[i * 4 + 1]! < 80 && png.data[i * 4 + 2]! < 80) dark++;
  return dark / (png.width * png.height);
}

describe('pictures', () => {
  it('the confusion matrix names every class in full and puts each count in its cell', () => {
    const confusion = CLASSES.map((_, i) => CLASSES.map((_, j) => (i === j ? 40 + i : i + j)));
    const svg = confusionSvg(confusion, CLASSES, 'demo: test accuracy 61.2%');
    for (const name of CLASSES) expect(svg.match(new RegExp(`>${name}<`, 'g')), name).toHaveLength(2);
    // The count of row 2, column 5 sits at that cell's centre (cells are 72 wide, counts 14 below the centre).
    const counts = [...svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)" font-size="12" text-anchor="middle"[^>]*>(\d+)<\/text>/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]), value: Number(m[3]) }));
    expect(counts).toHaveLength(49);
    const xs = [...new Set(counts.map((c) => c.x))].sort((a, b) => a - b);
    const ys = [...new Set(counts.map((c) => c.y))].sort((a, b) => a - b);
    expect(counts.find((c) => c.x === xs[5] && c.y === ys[2])!.value).toBe(7);
    expect(counts.find((c) => c.x === xs[3] && c.y === ys[3])!.value).toBe(43);
  });

  it('renders to an opaque PNG with real text on it', () => {
    const png = PNG.sync.read(svgToPng(confusionSvg([[3, 1], [0, 4]], ['angry', 'happy'], 'A LONG TITLE THAT IS WIDER THAN THE MATRIX: 87.5%')));
    // The title fits: the last columns are blank.
    for (let y = 0; y < png.height; y++) for (let x = png.width - 8; x < png.width; x++) expect(png.data[(y * png.width + x) * 4]).toBe(255);
    // No half-transparent or tinted labels: every pixel opaque, and dark text present.
    for (let i = 0; i < png.width * png.height; i++) expect(png.data[i * 4 + 3]).toBe(255);
    expect(darkShare(png)).toBeGreaterThan(0.005);
  });

  it('draws learning curves and image grids', () => {
    const curves = learningCurvesSvg(
      [
        { name: 'tiny-1/fold-0', points: [1, 2, 3].map((epoch) => ({ epoch, loss: 2 / epoch, val_loss: 2.2 / epoch, accuracy: 0.2 * epoch, val_accuracy: 0.18 * epoch })) },
        { name: 'tiny-1/fold-1', points: [1, 2, 3].map((epoch) => ({ epoch, loss: 1.9 / epoch, val_loss: 2.1 / epoch, accuracy: 0.21 * epoch, val_accuracy: 0.17 * epoch })) },
      ],
      'demo: learning curves',
    );
    expect(curves.match(/<path /g)).toHaveLength(8);
    expect(PNG.sync.read(svgToPng(curves)).width).toBeGreaterThan(900);
    const face = Uint8Array.from({ length: 48 * 48 }, (_, i) => (i * 7) % 256);
    const grid = imageGridSvg([{ label: 'angry', images: [{ pixels: face, width: 48, height: 48, channels: 1, caption: 'fear 97%' }] }, { label: 'happy', images: [] }], { title: 'mistakes', emptyText: 'no mistakes' });
    expect(grid).toContain('data:image/png;base64,');
    expect(grid).toContain('>no mistakes<');
    const png = PNG.sync.read(svgToPng(grid));
    expect(png.height).toBeGreaterThan(2 * 96);
  });
});
