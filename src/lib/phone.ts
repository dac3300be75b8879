// Phone numbers as typed by people → E.164, with the org's country as the default region.
import { getCountryCallingCode, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { memoize } from './memo.js';

/** The default country for phone numbers typed without +country, from the org's locale. */
export function phoneCountryFor(locale: string | undefined): CountryCode {
  return locale ? countryOfLocale(locale) : 'US';
}

/**
 * Where a stranger's number may be from, most likely first, by their browser's
 * languages: each region a language names ("es-MX": Mexico), then the United
 * States (the product's home), then each language's likeliest region ("es": Spain).
 * A bare "es" says nothing about where someone lives: a US number typed in a
 * Spanish browser must still read as one.
 */
export function phoneCountriesFor(languages: string[]): CountryCode[] {
  const named = languages.filter((tag) => /^[a-z]{2,3}-[a-z]{2}\b/i.test(tag)).map(countryOfLocale);
  const likely = languages.map(countryOfLocale);
  return [...new Set<CountryCode>([...named, 'US', ...likely])];
}

const countryOfLocale = memoize((locale: string): CountryCode => {
  try {
    const region = new Intl.Locale(locale).maximize().region;
    return (region && /^[A-Z]{2}$/.test(region) ? region : 'US') as CountryCode;
  } catch {
    return 'US';
  }
}, 100);

/**
 * "+1 415 555 2671", "(415) 555-2671" or "020 7946 0958" → E.164; null when empty;
 * undefined when it is no phone number.
 *
 * strict (customers' numbers, which messages go to): the number must be valid in
 * its country's numbering plan. Otherwise (the business's own numbers, shown
 * on the portal): a number written with + and its country code only needs a
 * possible length for that country, so "+1 555 555 0142" is kept as written;
 * a national number must still be valid in the default country, which catches
 * a number meant for another country.
 */
export function normalizePhone(input: string, defaultCountry: CountryCode, strict = true): string | null | undefined {
  const trimmed = input.trim();
  if (!trimmed) return null;
  const parsed = parsePhoneNumberFromString(trimmed, defaultCountry);
  if (!parsed) return undefined;
  const international = trimmed.startsWith('+');
  const ok = parsed.isValid() || (!strict && international && parsed.isPossible());
  return ok ? parsed.number : undefined;
}

export interface ShownPhone {
  /** As people in the business's country write it: national format at home ("(555) 555-0142"), international otherwise. */
  display: string;
  /** tel:+15555550142 */
  tel: string;
  /** sms:+15555550142 */
  sms: string;
}

/** An E.164 number as shown and linked for a business in `locale`'s country. */
export function shownPhone(e164: string, locale: string): ShownPhone {
  return formattedPhone(`${locale} ${e164}`);
}

/** "<locale> <E.164>" → the number as shown and linked (remembered: the same numbers come back on every page). */
const formattedPhone = memoize((key: string): ShownPhone => {
  const space = key.indexOf(' ');
  const locale = key.slice(0, space);
  const e164 = key.slice(space + 1);
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed) return { display: e164, tel: `tel:${e164}`, sms: `sms:${e164}` };
  // Same calling code as the business's country (US and CA share +1): written the local way.
  const home = parsed.countryCallingCode === getCountryCallingCode(phoneCountryFor(locale));
  return {
    display: home ? parsed.formatNational() : parsed.formatInternational(),
    tel: parsed.getURI(),
    sms: `sms:${parsed.number}`,
  };
});

/** The number as the business's country writes it ("(512) 555-0199"), for a message, a PDF or a calendar file; null stays null. */
export function phoneText(e164: string | null, locale: string): string | null {
  return e164 ? shownPhone(e164, locale).display : null;
}

/**
 * A stored number as a form shows it for editing: international and spaced ("+1 512 555 0199").
 * Read back as typed, it gives the same number: a national form would have to be valid in the
 * business's country, which a kept "+1 555 …" isn't.
 */
export function phoneInputValue(e164: string | null): string {
  if (!e164) return '';
  return parsePhoneNumberFromString(e164)?.formatInternational() ?? e164;
}
