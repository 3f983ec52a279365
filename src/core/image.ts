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
