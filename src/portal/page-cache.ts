// Portal pages as last rendered, kept while the data behind them is unchanged
// (issue 16). Every view still makes its one database call — the link is looked
// up, the visit logged — and names the version of the data the kept page was
// rendered from; when that is still the current version, Postgres does not build
// the page's JSON again (src/db/portal-page.ts, SAME_PAGE) and the HTML it gave
// is sent again instead of being rendered: the same input through the same
// templates gives the same bytes.
//
// A kept page is sent byte for byte, so it carries no per-response nonce: its
// inline style (the brand colours) is allowed by its SHA-256 in the page's
// Content-Security-Policy instead (CSP's hash sources), worked out once when the
// page is kept. Pages are rendered with a marker where the nonce goes; a page
// that uses the nonce anywhere but a <style> element is not kept.
//
// What a page shows from the clock rather than the data (a proposal past its
// "valid until", an upcoming visit) is why an entry also ages out after TTL_MS.
// Pages that carry one request's outcome (a refused form, "?result=approved")
// are never kept. Entries are per link (the key starts with the token's hash),
// so a page is only ever sent again to a request that found the same link.
import crypto from 'node:crypto';
import type { Request, Response } from 'express';
import { LRUCache } from 'lru-cache';
import { policyAllowingStyles } from '../http/security.js';

/** How long a rendered page may be sent again while its data is unchanged. */
const TTL_MS = 30_000;
/** Memory the kept pages (their HTML bytes) may use, in bytes (about). */
const MAX_SIZE = 32 * 1024 * 1024;

/** What the templates print where the CSP nonce goes: random per process, so no data can contain it. */
export const NONCE_MARK = `nonce${crypto.randomBytes(16).toString('hex')}`;
/** A style element carrying the marker, and its text (brand colours: no markup). */
// i18n-exempt: markup, not words
const MARKED_STYLE = new RegExp(`<style nonce="${NONCE_MARK}">([^<]*)</style>`, 'g');

export interface KeptPage {
  /** The version of the data it was rendered from (the page JSON's `version`). */
  version: string;
  /** The page, already UTF-8: encoding a page is most of what sending it costs. */
  body: Buffer;
  /** Its Content-Security-Policy: its inline styles allowed by their hashes. */
  policy: string;
}

const kept = new LRUCache<string, KeptPage>({
  maxSize: MAX_SIZE,
  sizeCalculation: (entry) => entry.version.length + entry.body.length + entry.policy.length + 1,
  ttl: TTL_MS,
});

/** The page last rendered under `key`, with the version of its data; undefined when there is none. */
export function keptPage(key: string): KeptPage | undefined {
  return kept.get(key);
}

/**
 * Keeps `html` (rendered from the data at `version` with NONCE_MARK as its nonce)
 * under `key`, its style elements allowed by their hashes instead; null (nothing
 * kept) when the marker is used anywhere else.
 */
export function keepPage(key: string, version: string, html: string): KeptPage | null {
  const sources: string[] = [];
  const unmarked = html.replace(MARKED_STYLE, (_element, css: string) => {
    sources.push(`'sha256-${crypto.hash('sha256', css, 'base64')}'`);
    return `<style>${css}</style>`;
  });
  if (unmarked.includes(NONCE_MARK)) return null;
  const page: KeptPage = { version, body: Buffer.from(unmarked, 'utf8'), policy: policyAllowingStyles(sources) };
  kept.set(key, page);
  return page;
}

/**
 * Sends a kept page as a 200 text/html response: its bytes as they are, with its
 * own policy in place of the one naming this response's nonce. The headers are
 * Node's own calls: Express's res.set() looks the content type up again.
 */
export function sendPage(req: Request, res: Response, page: KeptPage): void {
  res.statusCode = 200;
  // i18n-exempt: HTTP header names and values
  res.setHeader('Content-Security-Policy', page.policy);
  // i18n-exempt: HTTP header names and values
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  // i18n-exempt: HTTP header names and values
  res.setHeader('Content-Length', page.body.length);
  res.end(req.method === 'HEAD' ? undefined : page.body);
}

/** Forgets every kept page (tests). */
export function clearKeptPages(): void {
  kept.clear();
}
