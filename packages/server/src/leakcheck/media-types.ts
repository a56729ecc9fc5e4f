/** The media type of each image format the leak check takes (and gives back, redacted). */
import type { LeakcheckFormat } from '@rempart/core';

export const mediaTypes: Record<LeakcheckFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  tiff: 'image/tiff',
  avif: 'image/avif',
};
