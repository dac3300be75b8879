// The one contrast rule (culori, WCAG): the org's brand colour with text colours
// chosen so every pairing the portal, the settings preview and the emails use
// keeps contrast ≥ 4.5:1, whatever the colour.
import { formatHex, oklch, wcagContrast } from 'culori';
import { memoize } from './memo.js';

const MIN_CONTRAST = 4.5;
const WHITE = '#ffffff';
/** The portal's page background (public/app.css --bg): the darkest surface text sits on. */
export const PAGE_BACKGROUND = '#f5f7fa';
const BLACK = '#000000';
const FALLBACK = '#1d4ed8';

export interface BrandPalette {
  /** The org's colour, used as a background (header, active tab, buttons). */
  brand: string;
  /** Text on `brand`: black or white, whichever contrasts more (always ≥ 4.58:1). */
  onBrand: string;
  /** The brand colour darkened until it reads on the page background and white (links, active tab). */
  brandText: string;
}

function normalise(color: string): string {
  return /^#[0-9a-f]{6}$/i.test(color) ? color.toLowerCase() : FALLBACK;
}

/** Black or white, whichever contrasts more with the background. */
export function textOn(background: string): string {
  return wcagContrast(background, WHITE) >= wcagContrast(background, BLACK) ? WHITE : BLACK;
}

/** The colour itself if it reads on the background; else the same hue darkened until it does. */
export function readableOn(color: string, background: string = PAGE_BACKGROUND): string {
  if (wcagContrast(color, background) >= MIN_CONTRAST) return color;
  const start = oklch(color);
  if (!start) return BLACK;
  for (let l = start.l; l > 0; l -= 0.02) {
    const candidate = formatHex({ ...start, l });
    if (candidate && wcagContrast(candidate, background) >= MIN_CONTRAST) return candidate;
  }
  return BLACK;
}

/** The brand colour and the text colours readable on and beside it (remembered per colour). */
export const brandPalette: (color: string) => BrandPalette = memoize((color) => {
  const brand = normalise(color);
  return Object.freeze({ brand, onBrand: textOn(brand), brandText: readableOn(brand) });
});
