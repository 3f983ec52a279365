import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DataError } from '../../core/data-error.js';
import { declaredImageSize, type ImageShape } from '../../core/image.js';

/** An image as decoded: 8-bit RGBA, row-major. */
export interface DecodedImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/**
 * The most pixels an image may have to be decoded. Decoding takes 4 bytes a pixel, and a PNG of a
 * few hundred kilobytes can claim 12000x12000 (576 MB once decoded); faces are far smaller.
 */
export const MAX_IMAGE_MEGAPIXELS = 25;

/**
 * PNG and JPEG decoding with pure-JS libraries (pngjs, jpeg-js): nothing native to install, and a
 * 48x48 face decodes in well under a millisecond. Both return RGBA; we reduce to the channels the
 * config wants (grayscale by the ITU-R BT.601 luma weights, as PIL and OpenCV do).
 */
export function decodeImage(bytes: Buffer, file: string): DecodedImage {
  const isPng = bytes.length > 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8;
  const size = isPng || isJpeg ? declaredImageSize(bytes) : undefined;
  if (size && size.width * size.height > MAX_IMAGE_MEGAPIXELS * 1e6) {
    throw new DataError(
      `the image is ${size.width}x${size.height} (${((size.width * size.height) / 1e6).toFixed(1)} megapixels); fer decodes images of up to ${MAX_IMAGE_MEGAPIXELS} megapixels`,
      { file },
      'scale the image down (to the size of data.image) before giving it to fer',
    );
  }
  try {
    if (isPng) {
      const png = PNG.sync.read(bytes);
      return { width: png.width, height: png.height, rgba: png.data };
    }
    if (isJpeg) {
      const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_IMAGE_MEGAPIXELS });
      return { width: image.width, height: image.height, rgba: image.data };
    }
  } catch (error) {
    throw new DataError(`cannot decode the image: ${(error as Error).message}`, { file });
  }
  throw new DataError('not a PNG or JPEG image', { file });
}

/** Writes a decoded image into `out` at `offset` with the shape the dataset stores. */
export function storeImage(decoded: DecodedImage, shape: ImageShape, out: Uint8Array, offset: number, file: string): void {
  if (decoded.width !== shape.width || decoded.height !== shape.height) {
    throw new DataError(
      `the image is ${decoded.width}x${decoded.height}, but data.image is ${shape.width}x${shape.height}`,
      { file },
      'set data.image to the size of the images (all images of a dataset have one size)',
    );
  }
  imagePixels(decoded, shape.channels, out, offset);
}

/**
 * A decoded image's pixels with `channels` channels, as bytes: the values a dataset stores, and so
 * the values a model was trained on. Gray is the BT.601 luma rounded to the nearest integer; image
 * sources and `fer predict` both convert here, so an image predicted gets exactly the values it
 * would have as training data.
 */
export function imagePixels(decoded: DecodedImage, channels: number, out: Uint8Array = new Uint8Array(decoded.width * decoded.height * channels), offset = 0): Uint8Array {
  const { rgba } = decoded;
  const n = decoded.width * decoded.height;
  if (channels === 1) {
    for (let i = 0; i < n; i++) {
      const r = rgba[i * 4]!;
      const g = rgba[i * 4 + 1]!;
      const b = rgba[i * 4 + 2]!;
      out[offset + i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    }
  } else {
    for (let i = 0; i < n; i++) {
      out[offset + i * 3] = rgba[i * 4]!;
      out[offset + i * 3 + 1] = rgba[i * 4 + 1]!;
      out[offset + i * 3 + 2] = rgba[i * 4 + 2]!;
    }
  }
  return out;
}
