import { readFileSync, statSync } from 'node:fs';
import type { FerConfig } from '../config/types.js';
import { DataError } from '../core/data-error.js';
import { imageSize, type ImageShape } from '../core/image.js';
import { decodeImage, imagePixels } from '../registry/sources/image-decode.js';
import { csvOptions } from '../data/load.js';
import { resizeBilinear } from '../registry/preprocessing.js';
import { readCsvSource } from '../registry/sources/csv.js';

/** Images to predict, named for the output, with their raw pixel values (images x imageSize). */
export interface PredictionInputs {
  /** An image's file, or `file.csv:<line>` for a CSV row. */
  names: string[];
  pixels: Float32Array;
}

/**
 * An image file as a model of the run sees it: its pixels converted exactly as a dataset stores
 * them (imagePixels), then resized to the run's image size when it differs.
 */
export function readImageInput(file: string, shape: ImageShape): Float32Array {
  return imageBytesInput(readFileSync(file), file, shape);
}

/** An image's bytes (PNG or JPEG; `name` for messages) converted as readImageInput converts a file. */
export function imageBytesInput(bytes: Buffer, name: string, shape: ImageShape): Float32Array {
  const decoded = decodeImage(bytes, name);
  const pixels = Float32Array.from(imagePixels(decoded, shape.channels));
  if (decoded.width === shape.width && decoded.height === shape.height) return pixels;
  return resizeBilinear(pixels, 1, { height: decoded.height, width: decoded.width, channels: shape.channels }, shape.height, shape.width);
}

/**
 * Image files (.png, .jpg) and CSVs with a pixels column (every row an image; the columns named as
 * the run's CSV source names them, else FER2013's), in the order given.
 */
export async function readPredictionInputs(files: readonly string[], config: FerConfig): Promise<PredictionInputs> {
  const data = config.data!;
  const shape = data.image;
  const size = imageSize(shape);
  const names: string[] = [];
  const images: Float32Array[] = [];
  for (const file of files) {
    try {
      statSync(file);
    } catch {
      throw new DataError(`input not found: ${file}`);
    }
    if (/\.csv(\.gz)?$/i.test(file)) {
      const csv = csvOptions(data.source.csv ?? file);
      // The CSV reader takes the source's classes (its labels are not used here).
      const rows = await readCsvSource({
        path: file,
        labelColumn: csv.label_column,
        pixelsColumn: csv.pixels_column,
        splitColumn: null,
        allowedSplits: [],
        classes: data.classes,
        image: shape,
      });
      for (let r = 0; r < rows.labels.length; r++) {
        names.push(`${file}:${r + 2}`);
        images.push(Float32Array.from(rows.pixels.subarray(r * size, (r + 1) * size)));
      }
    } else {
      names.push(file);
      images.push(readImageInput(file, shape));
    }
  }
  const pixels = new Float32Array(images.length * size);
  images.forEach((image, i) => pixels.set(image, i * size));
  return { names, pixels };
}
