// Forms of the settings pages, one schema per action.
import type { CountryCode } from 'libphonenumber-js';
import { z } from 'zod';
import { isValidTimeZone } from '../lib/dates.js';
import { normalizePhone } from '../lib/phone.js';

const blankToNull = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? null : v);

/** The business's own numbers: typed any usual way, stored as E.164 (see normalizePhone). */
function businessPhoneField(what: string, defaultCountry: CountryCode) {
  return z.preprocess(
    blankToNull,
    z
      .string()
      .max(40, `Keep the ${what} under 40 characters`)
      .transform((value, ctx) => {
        const phone = normalizePhone(value, defaultCountry, false);
        if (!phone) {
          ctx.addIssue({
            code: 'custom',
            message: `That ${what} isn’t a complete phone number. Enter it with its area code, like (415) 555-2671, or with + and the country code, like +44 20 7946 0958.`,
          });
          return z.NEVER;
        }
        return phone; // E.164
      })
      .nullable(),
  );
}

const supportedCurrencies = new Set(Intl.supportedValuesOf('currency'));

/** Numbers typed without + are read as numbers of defaultCountry (from the org's locale). */
export function brandingSchema(defaultCountry: CountryCode) {
  return z.object({
    name: z
      .string({ error: 'Enter your business name' })
      .trim()
      .min(1, 'Enter your business name')
      .max(200, 'Keep the business name under 200 characters'),
    brand_color: z
      .string({ error: 'Choose a brand color' })
      .trim()
      .regex(/^#[0-9a-fA-F]{6}$/, 'Enter the color as # and six hex digits, like #1d4ed8')
      .transform((v) => v.toLowerCase()),
    phone: businessPhoneField('business phone', defaultCountry),
    whatsapp_number: businessPhoneField('WhatsApp number', defaultCountry),
    email: z.preprocess(
      blankToNull,
      z
        .string()
        .trim()
        .toLowerCase()
        .max(254, 'That email address is too long')
        .pipe(z.email('Enter a valid email address, like office@example.com'))
        .nullable(),
    ),
    address: z.preprocess(blankToNull, z.string().trim().max(500, 'Keep the address under 500 characters').nullable()),
    time_zone: z
      .string({ error: 'Choose a time zone' })
      .trim()
      .refine((v) => v.length > 0 && v.length < 100 && isValidTimeZone(v), 'Choose a time zone from the list, like America/New_York'),
    currency: z
      .string({ error: 'Choose a currency' })
      .trim()
      .toUpperCase()
      .refine((v) => /^[A-Z]{3}$/.test(v) && supportedCurrencies.has(v), 'Choose a currency code from the list, like USD'),
    locale: z
      .string({ error: 'Choose a language and region' })
      .trim()
      .max(35)
      .transform((value, ctx) => {
        try {
          const [canonical] = Intl.getCanonicalLocales(value);
          if (canonical && Intl.NumberFormat.supportedLocalesOf([canonical]).length > 0) return canonical;
        } catch {
          // not a BCP 47 tag; reported below
        }
        ctx.addIssue({ code: 'custom', message: 'Choose a language and region, like en-US' });
        return z.NEVER;
      }),
  });
}
export type BrandingInput = z.infer<ReturnType<typeof brandingSchema>>;

export const TIME_ZONES: readonly string[] = Intl.supportedValuesOf('timeZone');
export const CURRENCIES: readonly string[] = [...supportedCurrencies];
export const LOCALES = [
  'en-US',
  'en-CA',
  'en-GB',
  'en-AU',
  'es-US',
  'es-MX',
  'es-ES',
  'fr-CA',
  'fr-FR',
  'pt-BR',
  'de-DE',
  'it-IT',
  'nl-NL',
];
