// Image decoding lives with the folder source: src/registry/sources/image-decode.ts. Kept for
// `fer predict`, which decodes the images it is given.
export { decodeImage, imagePixels, storeImage, type DecodedImage } from '../registry/sources/image-decode.js';
