import { declaredImageSize } from '../core/image.js';
import { HttpError } from './http-error.js';

/** Refuses an image whose declared size exceeds `maxPixels` (413) or is empty (400). */
export function checkImageSize(bytes: Buffer, maxPixels: number): void {
  const size = declaredImageSize(bytes);
  if (!size) return;
  if (size.width === 0 || size.height === 0) throw new HttpError(400, `the image is ${size.width}x${size.height}: it has no pixels`);
  if (size.width * size.height > maxPixels) {
    throw new HttpError(413, `the image is ${size.width}x${size.height} (${((size.width * size.height) / 1e6).toFixed(1)} megapixels), larger than the ${(maxPixels / 1e6).toFixed(1)} megapixels fer serve decodes`);
  }
}
