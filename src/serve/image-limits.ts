import { HttpError } from './http-error.js';

/**
 * The width and height a PNG or JPEG declares, read from its header before anything is decoded, so
 * a small file declaring a huge image (a decompression bomb) is refused without allocating it.
 * Undefined when the header has no size (the decoder then reports the broken image).
 */
export function declaredSize(bytes: Buffer): { width: number; height: number } | undefined {
  const isPng = bytes.length >= 24 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.toString('latin1', 12, 16) === 'IHDR';
  if (isPng) return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  // JPEG: walk the segments to the first start-of-frame marker (C0-CF except C4 DHT, C8 JPG, CC DAC).
  let offset = 2;
  while (offset + 9 <= bytes.length) {
    if (bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1]!;
    if (marker === 0xff) {
      offset++;
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: bytes.readUInt16BE(offset + 5), width: bytes.readUInt16BE(offset + 7) };
    }
    offset += 2 + bytes.readUInt16BE(offset + 2);
  }
  return undefined;
}

/** Refuses an image whose declared size exceeds `maxPixels` (413) or is empty (400). */
export function checkImageSize(bytes: Buffer, maxPixels: number): void {
  const size = declaredSize(bytes);
  if (!size) return;
  if (size.width === 0 || size.height === 0) throw new HttpError(400, `the image is ${size.width}x${size.height}: it has no pixels`);
  if (size.width * size.height > maxPixels) {
    throw new HttpError(413, `the image is ${size.width}x${size.height} (${((size.width * size.height) / 1e6).toFixed(1)} megapixels), larger than the ${(maxPixels / 1e6).toFixed(1)} megapixels fer serve decodes`);
  }
}
