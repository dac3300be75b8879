// The portal link never sits in message_deliveries. A stored message carries
// this placeholder where the link goes; the worker puts the real link in at
// send time (decrypted from portal_links by the row's portal_link_id), and
// every page that shows a stored message shows the link redacted.
//
// The marker uses only characters Handlebars' HTML escaping leaves alone
// (letters, '[', ']', ':', '-'), so it comes out of the HTML layout byte for
// byte, in the href as in the text. Nothing a contractor types can produce it:
// renderMessage removes it from template sources and variable values first.
import Handlebars from 'handlebars';
import { config } from '../config.js';

// i18n-exempt: a marker in stored text, never shown
export const PORTAL_LINK_PLACEHOLDER = '[[porchlight:portal-link]]';

/** What a stored message shows instead of the token. */
export const REDACTED_TOKEN = '••••••';

/** Removes any literal placeholder from text that did not come from the link slot. */
export function stripPlaceholder(text: string): string {
  return text.split(PORTAL_LINK_PLACEHOLDER).join('');
}

export interface StoredParts {
  subject: string | null;
  body_text: string;
  body_html: string | null;
}

function replaceAll(text: string, value: string): string {
  return text.split(PORTAL_LINK_PLACEHOLDER).join(value);
}

/** The message as the customer gets it: the real link in every part (HTML-escaped in the HTML part). */
export function fillPortalLink<T extends StoredParts>(parts: T, url: string): T {
  return {
    ...parts,
    subject: parts.subject === null ? null : replaceAll(parts.subject, url),
    body_text: replaceAll(parts.body_text, url),
    body_html: parts.body_html === null ? null : replaceAll(parts.body_html, Handlebars.escapeExpression(url)),
  };
}

function redactedPortalUrl(): string {
  return `${config.publicUrl}/p/${REDACTED_TOKEN}`;
}

// Rows stored before the placeholder existed held the link itself: redact any
// portal token (43 base64url characters after /p/) as well.
const TOKEN_IN_URL = /\/p\/[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g;

function redact(text: string, url: string): string {
  return replaceAll(text, url).replace(TOKEN_IN_URL, `/p/${REDACTED_TOKEN}`);
}

/** A stored message for display to staff: the link shown as …/p/••••••, never the token. */
export function redactPortalLink<T extends StoredParts>(parts: T): T {
  const url = redactedPortalUrl();
  return {
    ...parts,
    subject: parts.subject === null ? null : redact(parts.subject, url),
    body_text: redact(parts.body_text, url),
    body_html: parts.body_html === null ? null : redact(parts.body_html, Handlebars.escapeExpression(url)),
  };
}
