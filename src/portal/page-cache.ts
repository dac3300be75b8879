// Portal pages as last rendered, kept while the data behind them is unchanged
// (issue 16). Every view still makes its one database call — the link is looked
// up, the visit logged, the page's JSON built — but when that JSON is the very
// text a page was last rendered from, with the same view and language, the HTML
// it gave is sent again instead of being rendered: the same input through the
// same templates gives the same bytes. Only the CSP nonce differs per response:
// pages are rendered with a marker in its place and the request's nonce is put
// in when sent.
//
// What a page shows from the clock rather than the data (a proposal past its
// "valid until", an upcoming visit) is why an entry also ages out after TTL_MS.
// Pages that carry one request's outcome (a refused form, "?result=approved")
// are never kept. Entries are per link (the key starts with the token's hash),
// so a page is only ever sent again to a request that found the same link.
import crypto from 'node:crypto';
import { LRUCache } from 'lru-cache';

/** How long a rendered page may be sent again while its data is unchanged. */
const TTL_MS = 30_000;
/** Memory the kept pages (their JSON text and HTML bytes) may use, in bytes (about). */
const MAX_SIZE = 32 * 1024 * 1024;

/** What the templates print where the CSP nonce goes: random per process, so no data can contain it. */
export const NONCE_MARK = `nonce${crypto.randomBytes(16).toString('hex')}`;

interface Kept {
  /** The page's JSON as the database wrote it. */
  text: string;
  /** The rendered HTML cut at each nonce, already UTF-8: encoding a page is most of what sending it costs. */
  parts: Buffer[];
}

const kept = new LRUCache<string, Kept>({
  maxSize: MAX_SIZE,
  sizeCalculation: (entry) => entry.text.length * 2 + entry.parts.reduce((sum, part) => sum + part.length, 0) + 1,
  ttl: TTL_MS,
});

/** The page's parts with `nonce` between them, as one buffer. */
function withNonce(parts: Buffer[], nonce: string): Buffer {
  if (parts.length === 1) return parts[0];
  const nonceBytes = Buffer.from(nonce, 'latin1');
  const pieces: Buffer[] = [parts[0]];
  for (let i = 1; i < parts.length; i++) pieces.push(nonceBytes, parts[i]);
  return Buffer.concat(pieces);
}

/** The HTML rendered from exactly `text` under `key`, with `nonce` in place; undefined when there is none. */
export function keptPage(key: string, text: string, nonce: string): Buffer | undefined {
  const entry = kept.get(key);
  if (!entry || entry.text !== text) return undefined;
  return withNonce(entry.parts, nonce);
}

/** Keeps `html` (rendered from `text` with NONCE_MARK as its nonce) and returns it with `nonce` in place. */
export function keepPage(key: string, text: string, html: string, nonce: string): Buffer {
  const parts = html.split(NONCE_MARK).map((part) => Buffer.from(part, 'utf8'));
  kept.set(key, { text, parts });
  return withNonce(parts, nonce);
}

/** Forgets every kept page (tests). */
export function clearKeptPages(): void {
  kept.clear();
}
