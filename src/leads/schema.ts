// Customer (lead) forms and list queries.
import { z } from 'zod';
import type { CountryCode } from 'libphonenumber-js';

import { LEAD_STAGES } from '../db/rows.js';
import { normalizePhone } from '../lib/phone.js';

const optionalText = (max: number, label: string) =>
  z
    .string()
    .trim()
    .max(max, `${label} can be at most ${max} characters`)
    .optional()
    .transform((v) => (v ? v : null));

export function leadFormSchema(defaultCountry: CountryCode = 'US') {
  return z.object({
    first_name: z.string().trim().min(1, 'Enter a first name').max(100, 'First name can be at most 100 characters'),
    last_name: z.string().trim().max(100, 'Last name can be at most 100 characters').default(''),
    company: optionalText(200, 'Company'),
    email: z
      .string()
      .trim()
      .toLowerCase()
      .max(254, 'That email is too long')
      .optional()
      .transform((v) => (v ? v : null))
      .pipe(z.email('Enter an email like name@example.com').nullable()),
    phone: z
      .string()
      .max(40, 'That phone number is too long')
      .optional()
      .transform((v, ctx) => {
        const phone = normalizePhone(v ?? '', defaultCountry);
        if (phone === undefined) {
          ctx.addIssue({ code: 'custom', message: 'Enter a valid phone number, e.g. (415) 555-2671 or +44 20 7946 0958' });
          return z.NEVER;
        }
        return phone;
      }),
    address: optionalText(500, 'Address'),
    stage: z.enum(LEAD_STAGES, 'Choose a pipeline stage').default('new'),
    internal_notes: z.string().trim().max(10_000, 'Notes can be at most 10,000 characters').default(''),
  });
}
export type LeadInput = z.infer<ReturnType<typeof leadFormSchema>>;

export const leadStageSchema = z.object({ stage: z.enum(LEAD_STAGES, 'Choose a pipeline stage') });

export const leadListQuerySchema = z.object({
  q: z.string().trim().max(100, 'Search text can be at most 100 characters').optional().default(''),
  stage: z.enum(LEAD_STAGES).optional().catch(undefined),
  after: z.string().max(200).optional(),
  before: z.string().max(200).optional(),
});
export type LeadListQuery = z.infer<typeof leadListQuerySchema>;

/** The pipeline stages for a select, in words ("Proposal sent"). */
export const stageOptions = LEAD_STAGES.map((value) => ({ value, label: value.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()) }));

/** A service address of a customer (several for a landlord or property manager). */
export const propertyFormSchema = z.object({
  label: z.string().trim().max(100, 'Name can be at most 100 characters').default(''),
  address: z.string().trim().min(1, 'Enter the address').max(500, 'Address can be at most 500 characters'),
});
export type PropertyInput = z.infer<typeof propertyFormSchema>;

/** The property a proposal, job or invoice is for: empty or absent means the customer's main property. */
export const documentPropertyField = z
  .union([z.literal(''), z.uuid('Choose one of this customer’s properties')], 'Choose one of this customer’s properties')
  .optional()
  .transform((v) => (v ? v : null))
  .optional();
