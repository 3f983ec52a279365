/** The size of images as a dataset stores them, or as a preprocessing step hands them on. */
export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

/** Values per image. */
export function imageSize(image: ImageShape): number {
  return image.height * image.width * image.channels;
}

/**
 * The width and height a PNG or JPEG declares in its header (PNG IHDR, JPEG start-of-frame), read
 * without decoding, so a small file declaring a huge image (a decompression bomb) can be refused
 * before anything is allocated. Undefined when the bytes are neither, or the header has no size
 * (the decoder then reports the broken image).
 */
export function declaredImageSize(bytes: Buffer): { width: number; height: number } | undefined {
  const isPng = bytes.length >= 24 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.toString('latin1', 12, 16) === 'IHDR';
  if (isPng) return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let offset = 2;
  while (offset + 9 <= bytes.length) {
    if (bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1]!;
    if (marker === 0xff) {
      offset++;
      continue;
    }
    // Start-of-frame markers C0-CF, except C4 (Huffman tables), C8 (reserved) and CC (arithmetic coding).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: bytes.readUInt16BE(offset + 5), width: bytes.readUInt16BE(offset + 7) };
    }
    offset += 2 + bytes.readUInt16BE(offset + 2);
  }
  return undefined;
}
