import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import jpeg from 'jpeg-js';
import { readImageInput } from '../../src/predict/inputs.js';
import { declaredImageSize } from '../../src/core/image.js';
import { tempDir } from '../helpers/data.js';

/** A real grayscale PNG of `side`x`side` black pixels: tiny on disk, large once decoded. */
function hugeBlackPng(side: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(side, 0);
  header.writeUInt32BE(side, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // grayscale
  const rows = Buffer.alloc((side + 1) * side); // each row: filter byte 0, then zeros
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('decoded image size', () => {
  it('refuses an image whose header says it is larger than the cap, before decoding it, naming the file', () => {
    const file = path.join(tempDir('fer-huge-png-'), 'huge.png');
    const png = hugeBlackPng(6000);
    writeFileSync(file, png);
    expect(png.length).toBeLessThan(200_000);
    const before = process.memoryUsage().rss;
    expect(() => readImageInput(file, { height: 48, width: 48, channels: 1 })).toThrow(
      `${file}: the image is 6000x6000 (36.0 megapixels); fer decodes images of up to 25 megapixels`,
    );
    // Decoding it would take 144 MB of RGBA.
    expect(process.memoryUsage().rss - before).toBeLessThan(100e6);
  });

  it('reads the size from a JPEG header as from a PNG one', () => {
    const encoded = jpeg.encode({ width: 40, height: 24, data: Buffer.alloc(40 * 24 * 4, 128) }, 90).data;
    expect(declaredImageSize(Buffer.from(encoded))).toEqual({ width: 40, height: 24 });
    expect(declaredImageSize(hugeBlackPng(30))).toEqual({ width: 30, height: 30 });
    expect(declaredImageSize(Buffer.from('emotion,pixels\n'))).toBeUndefined();
  });
});
