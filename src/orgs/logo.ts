// Organization logos: recognised by their bytes, normalized with sharp, stored
// in Postgres and served under a content-hash URL that never changes meaning.
import crypto from 'node:crypto';
import sharp, { type OutputInfo } from 'sharp';
import { fieldError } from '../lib/errors.js';

export const MAX_LOGO_BYTES = 2 * 1024 * 1024;
/** Longest side of the stored logo, in pixels. */
const LOGO_MAX_SIDE = 512;
/** Refuse decompression bombs before decoding: a 2 MB file may claim huge dimensions. */
const MAX_INPUT_PIXELS = 40_000_000;
const ACCEPTED_FORMATS = new Set(['png', 'jpeg', 'webp']);

export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Where the logo with these stored bytes is served (public, cached for a year). */
export function logoUrl(sha256: string): string {
  return `/logos/${sha256}`;
}

export interface NormalizedLogo {
  bytes: Buffer;
  contentType: 'image/png';
  width: number;
  height: number;
  sha256: string;
}

const NOT_AN_IMAGE = 'That file isn’t a PNG, JPEG or WebP image. Choose a PNG, JPEG or WebP file.';

/**
 * Checks what the bytes really are (the file name and the browser's type are
 * ignored), then re-encodes to a PNG of at most 512 px a side without metadata.
 */
export async function normalizeLogo(input: Buffer): Promise<NormalizedLogo> {
  if (input.length === 0) throw fieldError('logo', 'That file is empty. Choose a PNG, JPEG or WebP image.');
  if (input.length > MAX_LOGO_BYTES) throw fieldError('logo', 'The logo must be 2 MB or smaller.');
  let format: string | undefined;
  try {
    ({ format } = await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS }).metadata());
  } catch {
    throw fieldError('logo', NOT_AN_IMAGE);
  }
  if (format === 'svg') {
    // SVG can carry script and external references; we never store or serve it.
    throw fieldError('logo', 'SVG logos aren’t accepted. Export your logo as PNG (or JPEG or WebP) and upload that.');
  }
  if (!format || !ACCEPTED_FORMATS.has(format)) throw fieldError('logo', NOT_AN_IMAGE);
  let output: { data: Buffer; info: OutputInfo };
  try {
    output = await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' })
      .rotate() // apply EXIF orientation before the metadata is dropped
      .resize(LOGO_MAX_SIDE, LOGO_MAX_SIDE, { fit: 'inside', withoutEnlargement: true })
      .png({ compressionLevel: 9, adaptiveFiltering: true })
      .toBuffer({ resolveWithObject: true });
  } catch {
    throw fieldError('logo', 'That image is damaged or too large to read. Try exporting it again.');
  }
  const sha256 = crypto.createHash('sha256').update(output.data).digest('hex');
  return { bytes: output.data, contentType: 'image/png', width: output.info.width, height: output.info.height, sha256 };
}
