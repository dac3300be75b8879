// Customer (lead) forms and list queries.
import { z } from 'zod';
import type { CountryCode } from 'libphonenumber-js';

import { LEAD_STAGES } from '../db/rows.js';
import { LANGUAGES } from '../i18n/index.js';
import { normalizePhone } from '../lib/phone.js';

/** `message`: a catalogue key whose entry says how long the field may be. */
const optionalText = (max: number, message: string) =>
  z
    .string()
    .trim()
    .max(max, message)
    .optional()
    .transform((v) => (v ? v : null));

export function leadFormSchema(defaultCountry: CountryCode = 'US') {
  return z.object({
    first_name: z
      .string()
      .trim()
      .min(1, 'dashboard:customer.errors.firstNameRequired')
      .max(100, 'dashboard:customer.errors.firstNameTooLong'),
    last_name: z.string().trim().max(100, 'dashboard:customer.errors.lastNameTooLong').default(''),
    company: optionalText(200, 'dashboard:customer.errors.companyTooLong'),
    email: z
      .string()
      .trim()
      .toLowerCase()
      .max(254, 'dashboard:customer.errors.emailTooLong')
      .optional()
      .transform((v) => (v ? v : null))
      .pipe(z.email('dashboard:customer.errors.email').nullable()),
    phone: z
      .string()
      .max(40, 'dashboard:customer.errors.phoneTooLong')
      .optional()
      .transform((v, ctx) => {
        const phone = normalizePhone(v ?? '', defaultCountry);
        if (phone === undefined) {
          ctx.addIssue({ code: 'custom', message: 'dashboard:customer.errors.phone' });
          return z.NEVER;
        }
        return phone;
      }),
    address: optionalText(500, 'dashboard:customer.errors.addressTooLong'),
    stage: z.enum(LEAD_STAGES, 'dashboard:customer.errors.stage').default('new'),
    // The language the customer reads the portal, emails, texts and PDFs in; blank: automatic (null).
    language: z
      .union([z.literal(''), z.enum(LANGUAGES)], 'dashboard:customer.errors.language')
      .optional()
      .transform((v) => (v ? v : null)),
    internal_notes: z.string().trim().max(10_000, 'dashboard:customer.errors.notesTooLong').default(''),
  });
}
type LeadForm = z.infer<ReturnType<typeof leadFormSchema>>;
/** A customer's fields; `language` left out keeps it automatic (null). */
export type LeadInput = Omit<LeadForm, 'language'> & { language?: LeadForm['language'] };

export const leadStageSchema = z.object({ stage: z.enum(LEAD_STAGES, 'dashboard:customer.errors.stage') });

export const leadListQuerySchema = z.object({
  q: z.string().trim().max(100, 'dashboard:customer.errors.searchTooLong').optional().default(''),
  stage: z.enum(LEAD_STAGES).optional().catch(undefined),
  after: z.string().max(200).optional(),
  before: z.string().max(200).optional(),
});
export type LeadListQuery = z.infer<typeof leadListQuerySchema>;

/** The pipeline stages for a select, as messages the page words ("Proposal sent"). */
export const stageOptions = LEAD_STAGES.map((value) => ({ value, label: `common:status.${value}` }));

/** The customer's language for a select: blank is automatic (the customer's browser decides). */
export const languageOptions = [
  { value: '', label: 'dashboard:customer.languageAuto' },
  ...LANGUAGES.map((value) => ({ value, label: `dashboard:customer.languages.${value}` })),
];

/** A service address of a customer (several for a landlord or property manager). */
export const propertyFormSchema = z.object({
  label: z.string().trim().max(100, 'dashboard:property.errors.nameTooLong').default(''),
  address: z.string().trim().min(1, 'dashboard:property.errors.addressRequired').max(500, 'dashboard:property.errors.addressTooLong'),
});
export type PropertyInput = z.infer<typeof propertyFormSchema>;

/** The property a proposal, job or invoice is for: empty or absent means the customer's main property. */
export const documentPropertyField = z
  .union([z.literal(''), z.uuid('dashboard:property.errors.choose')], 'dashboard:property.errors.choose')
  .optional()
  .transform((v) => (v ? v : null))
  .optional();
