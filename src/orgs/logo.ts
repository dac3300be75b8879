// Organization logos: recognised by their bytes, normalized with sharp
// (src/lib/images.ts), stored in Postgres and served under a content-hash URL
// that never changes meaning.
import { normalizeImage, type NormalizedImage } from '../lib/images.js';

export { SHA256_HEX } from '../lib/images.js';

export const MAX_LOGO_BYTES = 2 * 1024 * 1024;
/** Longest side of the stored logo, in pixels. */
const LOGO_MAX_SIDE = 512;

/** Where the logo with these stored bytes is served (public, cached for a year). */
export function logoUrl(sha256: string): string {
  return `/logos/${sha256}`;
}

export type NormalizedLogo = NormalizedImage<'image/png'>;

/** Re-encodes to a PNG of at most 512 px a side without metadata. */
export async function normalizeLogo(input: Buffer): Promise<NormalizedLogo> {
  return normalizeImage(input, { field: 'logo', noun: 'logo', maxBytes: MAX_LOGO_BYTES, maxSide: LOGO_MAX_SIDE, output: 'png' });
}
