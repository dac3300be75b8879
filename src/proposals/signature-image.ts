// A drawn signature from the portal: a PNG data URL from signature_pad. Checked by
// its bytes (the "image/png" prefix proves nothing), refused when blank, and
// re-encoded by sharp so only clean pixels are stored and put into the PDF.
import sharp from 'sharp';
import { fieldError } from '../lib/errors.js';

// i18n-exempt: a data URL's prefix
const PREFIX = 'data:image/png;base64,';
/** A signature canvas at 2× density is a few tens of KB; this stays under the 200 kB form body limit. */
const MAX_SIGNATURE_DATA_URL_CHARS = 150_000;
/** The stored, re-encoded image (the table's check says the same). */
const MAX_STORED_BYTES = 256 * 1024;
const MAX_INPUT_PIXELS = 4_000_000;
const MAX_WIDTH = 1200;
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const FIELD = 'signature';
const UNREADABLE = 'dashboard:signature.unreadable';
const TOO_LARGE = 'dashboard:signature.tooLarge';

/** The drawn signature as a stored PNG, or null when none was drawn (the typed name signs). */
export async function normalizeSignature(dataUrl: string | null | undefined): Promise<Buffer | null> {
  if (!dataUrl) return null;
  if (dataUrl.length > MAX_SIGNATURE_DATA_URL_CHARS) throw fieldError(FIELD, TOO_LARGE);
  if (!dataUrl.startsWith(PREFIX)) throw fieldError(FIELD, UNREADABLE);
  const base64 = dataUrl.slice(PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) throw fieldError(FIELD, UNREADABLE);
  const bytes = Buffer.from(base64, 'base64');
  if (!bytes.subarray(0, 8).equals(PNG_MAGIC)) throw fieldError(FIELD, UNREADABLE);
  try {
    const image = sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' });
    const meta = await image.metadata();
    if (meta.format !== 'png') throw new Error('not a png');
    // Blank canvas: every pixel fully transparent (or the image has no alpha and is one flat colour).
    const stats = await image.stats();
    const blank = meta.hasAlpha
      ? stats.channels[stats.channels.length - 1].max === 0
      : stats.isOpaque && stats.channels.every((c) => c.min === c.max);
    if (blank) throw fieldError(FIELD, 'dashboard:signature.empty');
    const output = await sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' })
      .resize({ width: MAX_WIDTH, withoutEnlargement: true })
      .png({ compressionLevel: 9, adaptiveFiltering: true })
      .toBuffer();
    if (output.length > MAX_STORED_BYTES) throw fieldError(FIELD, TOO_LARGE);
    return output;
  } catch (err) {
    if (err instanceof Error && err.name === 'FormError') throw err;
    throw fieldError(FIELD, UNREADABLE);
  }
}
