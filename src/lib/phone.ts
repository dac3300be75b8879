// Phone numbers as typed by people → E.164, with the org's country as the default region.
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { memoize } from './memo.js';

/** The default country for phone numbers typed without +country, from the org's locale. */
export function phoneCountryFor(locale: string | undefined): CountryCode {
  return locale ? countryOfLocale(locale) : 'US';
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
