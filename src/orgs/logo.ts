// Organization logos: recognised by their bytes, normalized with sharp, stored
// in Postgres and served under a content-hash URL that never changes meaning.
import crypto from 'node:crypto';
import sharp, { type OutputInfo } from 'sharp';
import type { Db } from '../db/tenancy.js';
import { fieldError } from '../http/errors.js';

export const MAX_LOGO_BYTES = 2 * 1024 * 1024;
/** Longest side of the stored logo, in pixels. */
export const LOGO_MAX_SIDE = 512;
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

/** Stores the logo (once per org and content) and makes it the org's logo. Returns the logo id. */
export async function saveOrgLogo(db: Db, orgId: string, logo: NormalizedLogo): Promise<string> {
  const [row] = await db('org_logos')
    .insert({
      org_id: orgId,
      sha256: logo.sha256,
      content_type: logo.contentType,
      width: logo.width,
      height: logo.height,
      bytes: logo.bytes,
    })
    .onConflict(['org_id', 'sha256'])
    .merge(['created_at'])
    .returning<{ id: string }[]>('id');
  await db('organizations').where({ id: orgId }).update({ logo_id: row.id, updated_at: db.fn.now() });
  return row.id;
}

export async function currentLogoSha(db: Db, logoId: string | null): Promise<string | null> {
  if (!logoId) return null;
  const row = await db('org_logos').where({ id: logoId }).first<{ sha256: string } | undefined>('sha256');
  return row?.sha256 ?? null;
}

/** The stored bytes for a public logo URL; runs before any org is known. */
export async function logoBySha256(db: Db, sha256: string): Promise<{ content_type: string; bytes: Buffer } | undefined> {
  const { rows } = await db.raw<{ rows: { content_type: string; bytes: Buffer }[] }>(
    'select content_type, bytes from org_logo_by_sha256(?)',
    [sha256],
  );
  return rows[0];
}

/** Black or white, whichever reads better on the brand color (WCAG relative luminance). */
export function textColorOn(hex: string): '#000000' | '#ffffff' {
  const channels = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2];
  // Contrast with white vs with black: pick the larger.
  return (1.05 / (luminance + 0.05)) >= ((luminance + 0.05) / 0.05) ? '#ffffff' : '#000000';
}
