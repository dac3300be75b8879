// The product's words in English and Spanish: one catalogue per language and
// namespace (src/i18n/locales/<language>/<namespace>.json), read through
// i18next, whose plurals follow Intl.PluralRules (`_one`, `_many`, `_other`).
//
// How text reaches people:
// - Templates: `{{t "portal:tabs.invoices"}}`, with values and plurals
//   `{{t "portal:openInvoices" count=n}}`; `{{tHtml "ns:key" name=x}}` for a
//   catalogue entry that holds markup (its values are escaped, the entry is not).
//   The language is the page's `lang` local (see `pageLanguage` and the portal).
// - Code: `t(lang, 'ns:key', values)` when the language is known there. Code
//   that doesn't know who will read it (a command's FormError, a zod schema's
//   message, a flash) writes a *message*: the key itself, `'ns:key'`, or
//   `msg('ns:key', values)`; the page, email or PDF that shows it translates it
//   with `translate(lang, message)` (the `fieldError` helper and the error pages
//   do). Text that is not a message (a customer's name) passes through unchanged.
// - `test/i18n/bare-strings.test.ts` fails on words in a template or in code
//   outside the catalogue; `test/i18n/catalogue.test.ts` on a key missing from a
//   language or used but never written.
import fs from 'node:fs';
import path from 'node:path';
import i18next, { type Resource } from 'i18next';
import { LRUCache } from 'lru-cache';
import { joinValueStops, markValueStops } from './full-stop.js';
import { projectRoot } from '../paths.js';

export const LANGUAGES = ['en', 'es'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'en';

/** The catalogues' folder (read from the source tree by the built app too). */
export const localesDir = path.join(projectRoot, 'src', 'i18n', 'locales');

function readCatalogues(): { resources: Resource; namespaces: string[] } {
  const resources: Resource = {};
  const namespaces = new Set<string>();
  for (const language of LANGUAGES) {
    resources[language] = {};
    for (const file of fs.readdirSync(path.join(localesDir, language))) {
      if (!file.endsWith('.json')) continue;
      const namespace = file.slice(0, -'.json'.length);
      namespaces.add(namespace);
      resources[language][namespace] = JSON.parse(fs.readFileSync(path.join(localesDir, language, file), 'utf8')) as Record<
        string,
        unknown
      >;
    }
  }
  return { resources, namespaces: [...namespaces].sort() };
}

const catalogues = readCatalogues();
const i18n = i18next.createInstance();
void i18n.init({
  // Resources are in memory: initialise synchronously, so `t` works as soon as this module is loaded.
  initAsync: false,
  resources: catalogues.resources,
  ns: catalogues.namespaces,
  defaultNS: 'common',
  supportedLngs: [...LANGUAGES],
  fallbackLng: DEFAULT_LANGUAGE,
  // Handlebars escapes what templates print; escaping here too would print "O&amp;#39;Brien".
  interpolation: { escapeValue: false },
  returnNull: false,
});

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/** The catalogue entry `key` ("ns:key.path") in `lang`, with `values` put in. */
export function t(lang: Language, key: string, values?: Record<string, unknown>): string {
  // A value ending in a full stop ("Acme Co.") before the entry's own gives one (src/i18n/full-stop.ts).
  return values ? joinValueStops(i18n.t(key, { ...markValueStops(values), lng: lang })) : plain(lang, key);
}

// Most lookups have no values and are asked for on every page: keep the answers.
const plainCache = new Map<string, string>();
function plain(lang: Language, key: string): string {
  const cacheKey = `${lang}|${key}`;
  let found = plainCache.get(cacheKey);
  if (found === undefined) {
    found = i18n.t(key, { lng: lang });
    plainCache.set(cacheKey, found);
  }
  return found;
}

/** Whether `key` ("ns:key.path") is in the `lang` catalogue, plural forms included. */
export function hasKey(lang: Language, key: string, withCount = false): boolean {
  return i18n.exists(key, withCount ? { lng: lang, count: 2 } : { lng: lang });
}

const VALUES_MARK = '|';
const MESSAGE = /^[a-z][A-Za-z]*:[A-Za-z0-9_.]+$/;

/**
 * A message for whoever reads it later, in their language: `msg('invoices:tooMuch', { total })`.
 * It is a string (it travels through zod, FormError, Error.message and the session's
 * flash unchanged) that `translate` turns into words.
 */
export function msg(key: string, values?: Record<string, string | number>): string {
  return values ? `${key}${VALUES_MARK}${JSON.stringify(values)}` : key;
}

/** A message's catalogue key and values; null when the text is no message of the `lang` catalogue. */
function parseMessage(lang: Language, message: string): { key: string; values?: Record<string, unknown> } | null {
  const mark = message.indexOf(VALUES_MARK);
  const key = mark === -1 ? message : message.slice(0, mark);
  if (!MESSAGE.test(key) || !i18n.exists(key, { lng: lang, count: 1 })) return null;
  if (mark === -1) return { key };
  try {
    return { key, values: JSON.parse(message.slice(mark + 1)) as Record<string, unknown> };
  } catch {
    return null;
  }
}

/** A message (`msg`, or a bare key) in `lang`; any other text comes back as it is. */
export function translate(lang: Language, message: string | undefined | null): string {
  if (!message) return '';
  const parsed = parseMessage(lang, message);
  return parsed ? t(lang, parsed.key, parsed.values) : message;
}

/** A stored status in `lang` ("partially_paid" → "Partially paid"); one the catalogue lacks in readable words. */
export function statusWords(lang: Language, status: unknown): string {
  if (typeof status !== 'string' || status === '') return '';
  const key = `common:status.${status}`;
  if (hasKey(lang, key)) return t(lang, key);
  const words = status.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The first of our languages the browser's Accept-Language asks for; English when none. */
export function browserLanguage(req: LanguageRequest): Language {
  return acceptedLanguage(req) ?? DEFAULT_LANGUAGE;
}

/** The language of a locale: "es-MX" → es; a language we don't have → English. */
export function languageOf(locale: string | null | undefined): Language {
  const language = locale?.split('-')[0]?.toLowerCase();
  return isLanguage(language) ? language : DEFAULT_LANGUAGE;
}

/**
 * The locale numbers, dates and money are written in: the reader's language in
 * the organisation's country ("es" for a business in en-US → es-US: "$1,250.00"
 * with Spanish month names).
 */
export function formatLocale(lang: Language, orgLocale: string | null | undefined): string {
  const region = orgLocale?.split('-')[1];
  const candidate = region ? `${lang}-${region}` : lang;
  try {
    return Intl.getCanonicalLocales(candidate)[0] ?? lang;
  } catch {
    return lang;
  }
}

/** What negotiating a language needs of a request (Express's). */
interface LanguageRequest {
  get(name: string): string | undefined;
  acceptsLanguages(...languages: string[]): string | false;
}

/**
 * Accept-Language values already negotiated, and the answer ('' for none of ours):
 * a browser sends the same value with every request, and each portal view asked
 * twice (issue 16). Values longer than any browser sends are negotiated every time.
 */
const negotiated = new LRUCache<string, Language | ''>({ max: 500 });
const MAX_KEPT_HEADER = 256;

/** The first of our languages the browser's Accept-Language asks for; null when it names none of them (or is absent). */
export function acceptedLanguage(req: LanguageRequest): Language | null {
  // i18n-exempt: HTTP header names and values
  const header = req.get('accept-language');
  if (!header) return null;
  let language = negotiated.get(header);
  if (language === undefined) {
    const chosen = req.acceptsLanguages(...LANGUAGES);
    language = isLanguage(chosen) ? chosen : '';
    if (header.length <= MAX_KEPT_HEADER) negotiated.set(header, language);
  }
  return language || null;
}

/**
 * The language a customer reads in: the one stored on them (the contractor set it,
 * or they chose it on the portal), else their browser's, else the business's.
 */
export function customerLanguage(stored: unknown, browser: Language | null, orgLocale: string | null | undefined): Language {
  if (isLanguage(stored)) return stored;
  return browser ?? languageOf(orgLocale);
}

/** A message whose values may be messages too ("Photo 2: <why the photo was refused>"), every part in `lang`. */
export function translateNested(lang: Language, message: string | undefined | null): string {
  if (!message) return '';
  const parsed = parseMessage(lang, message);
  if (!parsed?.values) return translate(lang, message);
  const inner = Object.fromEntries(Object.entries(parsed.values).map(([k, v]) => [k, typeof v === 'string' ? translate(lang, v) : v]));
  return t(lang, parsed.key, inner);
}

/**
 * A catalogue entry exactly as written, nothing put in: for entries that are
 * themselves templates with their own `{{placeholders}}` (a message's default
 * wording, src/messaging/templates.ts). Throws on a key neither language has.
 */
export function entryAsWritten(lang: Language, key: string): string {
  const [namespace, entry] = key.split(':');
  const found: unknown = i18n.getResource(lang, namespace, entry) ?? i18n.getResource(DEFAULT_LANGUAGE, namespace, entry);
  if (typeof found !== 'string') throw new Error(`no catalogue entry ${key}`);
  return found;
}
