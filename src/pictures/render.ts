import { createRequire } from 'node:module';
import { Resvg } from '@resvg/resvg-js';
import { PNG } from 'pngjs';

/**
 * Pictures are drawn as SVG (text a browser or MLflow's artifact view shows sharp at any size) and
 * rendered to PNG by resvg, a prebuilt renderer that needs no system library, with DejaVu Sans from
 * npm: the same glyphs on every machine, offline, never a missing-font fallback.
 */
const require = createRequire(import.meta.url);
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => require.resolve(`dejavu-fonts-ttf/ttf/${f}`));
export const FONT_FAMILY = 'DejaVu Sans';

export function svgToPng(svg: string): Buffer {
  const resvg = new Resvg(svg, {
    font: { fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: FONT_FAMILY },
    background: 'white',
  });
  return Buffer.from(resvg.render().asPng());
}

/** A gray or RGB image (height x width x channels bytes) as a PNG data URI, for <image> in an SVG. */
export function pixelsDataUri(pixels: ArrayLike<number>, width: number, height: number, channels: number): string {
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) {
    const r = pixels[i * channels]!;
    png.data[i * 4] = r;
    png.data[i * 4 + 1] = channels === 3 ? pixels[i * channels + 1]! : r;
    png.data[i * 4 + 2] = channels === 3 ? pixels[i * channels + 2]! : r;
    png.data[i * 4 + 3] = 255;
  }
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
}
