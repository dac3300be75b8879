// Uploaded images (logos, customers' photos): recognised by their bytes (the file
// name and the browser's type are ignored), re-encoded with sharp so that no
// metadata, script or trailing payload survives, and hashed.
import { msg } from '../i18n/index.js';
import crypto from 'node:crypto';
import sharp, { type OutputInfo } from 'sharp';
import { fieldError } from './errors.js';

/** Refuse decompression bombs before decoding: a small file may claim huge dimensions. */
const MAX_INPUT_PIXELS = 40_000_000;
const ACCEPTED_FORMATS = new Set(['png', 'jpeg', 'webp']);

export const SHA256_HEX = /^[0-9a-f]{64}$/;

export interface NormalizedImage<T extends string> {
  bytes: Buffer;
  contentType: T;
  width: number;
  height: number;
  sha256: string;
}

interface ImageRules<F extends 'png' | 'jpeg'> {
  /** The form field errors are reported on. */
  field: string;
  /** What the image is, in messages: "logo", "photo". */
  noun: string;
  maxBytes: number;
  /** Longest side of the stored image, in pixels. */
  maxSide: number;
  output: F;
}

const NOT_AN_IMAGE = 'dashboard:image.notAnImage';

export async function normalizeImage<F extends 'png' | 'jpeg'>(
  input: Buffer,
  rules: ImageRules<F>,
): Promise<NormalizedImage<F extends 'png' ? 'image/png' : 'image/jpeg'>> {
  const { field, noun } = rules;
  if (input.length === 0) throw fieldError(field, 'dashboard:image.empty');
  if (input.length > rules.maxBytes) {
    throw fieldError(field, msg('dashboard:image.tooLarge', { noun, mb: rules.maxBytes / (1024 * 1024) }));
  }
  let format: string | undefined;
  try {
    ({ format } = await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS }).metadata());
  } catch {
    throw fieldError(field, NOT_AN_IMAGE);
  }
  if (format === 'svg') {
    // SVG can carry script and external references; we never store or serve it.
    throw fieldError(field, msg('dashboard:image.svg', { noun }));
  }
  if (!format || !ACCEPTED_FORMATS.has(format)) throw fieldError(field, NOT_AN_IMAGE);
  let output: { data: Buffer; info: OutputInfo };
  try {
    const pipeline = sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' })
      .rotate() // apply EXIF orientation before the metadata is dropped
      .resize(rules.maxSide, rules.maxSide, { fit: 'inside', withoutEnlargement: true });
    output = await (
      rules.output === 'png'
        ? pipeline.png({ compressionLevel: 9, adaptiveFiltering: true })
        : pipeline.flatten({ background: '#ffffff' }).jpeg({ quality: 82, mozjpeg: true })
    ).toBuffer({ resolveWithObject: true });
  } catch {
    throw fieldError(field, 'dashboard:image.damaged');
  }
  const sha256 = crypto.createHash('sha256').update(output.data).digest('hex');
  const contentType = (rules.output === 'png' ? 'image/png' : 'image/jpeg') as F extends 'png' ? 'image/png' : 'image/jpeg';
  return { bytes: output.data, contentType, width: output.info.width, height: output.info.height, sha256 };
}
