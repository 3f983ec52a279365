import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { svgToPng } from './render.js';

/** A picture written as SVG and PNG side by side, and the run (`parent` or a task key) it belongs to. */
export interface PictureFile {
  /** Absolute path of the PNG; the SVG has the same name. */
  png: string;
  svg: string;
  run: string;
  /** Its name among that run's artifacts, without the extension. */
  name: string;
}

/** Writes `<base>.svg` and `<base>.png` (each through a temporary file: readers never see half of one). */
export function writePicture(base: string, svg: string, run: string, name: string): PictureFile {
  mkdirSync(path.dirname(base), { recursive: true });
  const put = (file: string, content: string | Buffer) => {
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, content);
    renameSync(temporary, file);
  };
  put(`${base}.svg`, svg);
  put(`${base}.png`, svgToPng(svg));
  return { png: `${base}.png`, svg: `${base}.svg`, run, name };
}
