// Forms of the settings pages, one schema per action.
import type { CountryCode } from 'libphonenumber-js';
import { z } from 'zod';
import { isValidTimeZone } from '../lib/dates.js';
import { normalizePhone } from '../lib/phone.js';

const blankToNull = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? null : v);

/** The business's own numbers: typed any usual way, stored as E.164 (see normalizePhone). */
function businessPhoneField(which: 'phone' | 'whatsapp', defaultCountry: CountryCode) {
  return z.preprocess(
    blankToNull,
    z
      .string()
      .max(40, `settings:branding.error.${which}TooLong`)
      .transform((value, ctx) => {
        const phone = normalizePhone(value, defaultCountry, false);
        if (!phone) {
          ctx.addIssue({
            code: 'custom',
            message: `settings:branding.error.${which}Incomplete`,
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
      .string({ error: 'settings:branding.error.nameRequired' })
      .trim()
      .min(1, 'settings:branding.error.nameRequired')
      .max(200, 'settings:branding.error.nameTooLong'),
    brand_color: z
      .string({ error: 'settings:branding.error.colorRequired' })
      .trim()
      .regex(/^#[0-9a-fA-F]{6}$/, 'settings:branding.error.colorInvalid')
      .transform((v) => v.toLowerCase()),
    phone: businessPhoneField('phone', defaultCountry),
    whatsapp_number: businessPhoneField('whatsapp', defaultCountry),
    email: z.preprocess(
      blankToNull,
      z
        .string()
        .trim()
        .toLowerCase()
        .max(254, 'settings:branding.error.emailTooLong')
        .pipe(z.email('settings:branding.error.emailInvalid'))
        .nullable(),
    ),
    address: z.preprocess(blankToNull, z.string().trim().max(500, 'settings:branding.error.addressTooLong').nullable()),
    time_zone: z
      .string({ error: 'settings:branding.error.timeZoneRequired' })
      .trim()
      .refine((v) => v.length > 0 && v.length < 100 && isValidTimeZone(v), 'settings:branding.error.timeZoneInvalid'),
    currency: z
      .string({ error: 'settings:branding.error.currencyRequired' })
      .trim()
      .toUpperCase()
      .refine((v) => /^[A-Z]{3}$/.test(v) && supportedCurrencies.has(v), 'settings:branding.error.currencyInvalid'),
    locale: z
      .string({ error: 'settings:branding.error.localeRequired' })
      .trim()
      .max(35)
      .transform((value, ctx) => {
        try {
          const [canonical] = Intl.getCanonicalLocales(value);
          if (canonical && Intl.NumberFormat.supportedLocalesOf([canonical]).length > 0) return canonical;
        } catch {
          // not a BCP 47 tag; reported below
        }
        ctx.addIssue({ code: 'custom', message: 'settings:branding.error.localeInvalid' });
        return z.NEVER;
      }),
  });
}
export type BrandingInput = z.infer<ReturnType<typeof brandingSchema>>;

export const TIME_ZONES: readonly string[] = Intl.supportedValuesOf('timeZone');
export const CURRENCIES: readonly string[] = [...supportedCurrencies];
// i18n-exempt: locale tags, not words
export const LOCALES: readonly string[] = 'en-US en-CA en-GB en-AU es-US es-MX es-ES fr-CA fr-FR pt-BR de-DE it-IT nl-NL'.split(' ');
