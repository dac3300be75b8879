// Portal pages as last rendered, kept while the data behind them is unchanged
// (issue 16). Every view still makes its one database call — the link is looked
// up, the visit logged — and names the version of the data the kept page was
// rendered from; when that is still the current version, Postgres does not build
// the page's JSON again (src/db/portal-page.ts, SAME_PAGE) and the HTML it gave
// is sent again instead of being rendered: the same input through the same
// templates gives the same bytes. Only the CSP nonce differs per response: pages
// are rendered with a marker in its place and the request's nonce is put in when
// sent.
//
// What a page shows from the clock rather than the data (a proposal past its
// "valid until", an upcoming visit) is why an entry also ages out after TTL_MS.
// Pages that carry one request's outcome (a refused form, "?result=approved")
// are never kept. Entries are per link (the key starts with the token's hash),
// so a page is only ever sent again to a request that found the same link.
import crypto from 'node:crypto';
import type { Request, Response } from 'express';
import { LRUCache } from 'lru-cache';

/** How long a rendered page may be sent again while its data is unchanged. */
const TTL_MS = 30_000;
/** Memory the kept pages (their HTML bytes) may use, in bytes (about). */
const MAX_SIZE = 32 * 1024 * 1024;

/** What the templates print where the CSP nonce goes: random per process, so no data can contain it. */
export const NONCE_MARK = `nonce${crypto.randomBytes(16).toString('hex')}`;

/** A kept page: its HTML cut at each nonce, already UTF-8. */
export type PageParts = readonly Buffer[];

export interface KeptPage {
  /** The version of the data it was rendered from (the page JSON's `version`). */
  version: string;
  /** The rendered HTML cut at each nonce, already UTF-8: encoding a page is most of what sending it costs. */
  parts: PageParts;
}

const kept = new LRUCache<string, KeptPage>({
  maxSize: MAX_SIZE,
  sizeCalculation: (entry) => entry.version.length + entry.parts.reduce((sum, part) => sum + part.length, 0) + 1,
  ttl: TTL_MS,
});

/** The page last rendered under `key`, with the version of its data; undefined when there is none. */
export function keptPage(key: string): KeptPage | undefined {
  return kept.get(key);
}

/** Keeps `html` (rendered from the data at `version` with NONCE_MARK as its nonce) under `key`; returns its parts. */
export function keepPage(key: string, version: string, html: string): PageParts {
  const parts = html.split(NONCE_MARK).map((part) => Buffer.from(part, 'utf8'));
  kept.set(key, { version, parts });
  return parts;
}

/** The page's bytes in order, with `nonce` between its parts (the parts themselves, not copies). */
export function pageChunks(parts: PageParts, nonce: string): Buffer[] {
  const nonceBytes = Buffer.from(nonce, 'latin1');
  return parts.flatMap((part, i) => (i === 0 ? [part] : [nonceBytes, part]));
}

/**
 * Sends the page with `nonce` in place as a 200 text/html response, its parts
 * handed to the socket as they are (one corked write) instead of copied into a
 * new buffer per response: a page is tens of kilobytes, and that copy per view
 * was garbage the collector had to sweep (issue 16).
 */
export function sendPage(req: Request, res: Response, parts: PageParts, nonce: string): void {
  const chunks = pageChunks(parts, nonce);
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  // i18n-exempt: HTTP header names and values
  res.status(200).set({ 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': String(length) });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  // Corked, the writes leave as one: end() uncorks.
  res.cork();
  for (const chunk of chunks) res.write(chunk);
  res.end();
}

/** Forgets every kept page (tests). */
export function clearKeptPages(): void {
  kept.clear();
}
