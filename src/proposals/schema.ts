// Proposal forms.
import { msg } from '../i18n/index.js';
import { z } from 'zod';
import { PROPOSAL_STATUSES } from '../db/rows.js';
import { optionalIsoDate } from '../lib/dates.js';
import { customerMessageField, internalNotesField } from '../lib/forms.js';
import { proposalLineItemsSchema, taxRateField } from '../lib/line-items.js';
import { documentPropertyField } from '../leads/schema.js';
import { FormError } from '../lib/errors.js';
import { DEPOSIT_KINDS, depositColumns, depositFormFields } from './deposit.js';

export { PROPOSAL_STATUSES };

export function proposalFormSchema(currency: string) {
  return (
    z
      .object({
        lead_id: z.uuid('dashboard:doc.errors.chooseCustomer'),
        property_id: documentPropertyField,
        title: z
          .string()
          .trim()
          .min(1, 'dashboard:proposal.errors.titleRequired')
          .max(200, msg('dashboard:form.atMost', { max: 200 })),
        tax_rate: taxRateField,
        valid_until: optionalIsoDate,
        customer_message: customerMessageField,
        internal_notes: internalNotesField,
        items: proposalLineItemsSchema(currency),
        ...depositFormFields,
      })
      // A deposit that is wrong whatever the total (150 %, "abc") is said with the other errors, in one
      // pass, even when a line's own check stopped the parse; only "more than the total" waits for a
      // total (commands.ts). The rules are depositColumns' own.
      .refine((input) => depositFieldInError(input, currency) !== 'deposit_percent', {
        path: ['deposit_percent'],
        message: 'dashboard:proposal.errors.depositPercent',
        when: () => true,
      })
      .refine((input) => depositFieldInError(input, currency) !== 'deposit_amount', {
        path: ['deposit_amount'],
        message: 'dashboard:proposal.errors.depositAmount',
        when: () => true,
      })
  );
}

/** The deposit field depositColumns refuses whatever the total, if any. */
function depositFieldInError(input: Parameters<typeof depositColumns>[0], currency: string): string | null {
  // Run even when the fields' own checks failed (when: () => true): only on values of the right kinds,
  // which those checks then report (a field sent twice arrives as an array).
  const text = (value: unknown) => value === undefined || typeof value === 'string';
  if (!DEPOSIT_KINDS.includes(input.deposit_kind as never) || !text(input.deposit_percent) || !text(input.deposit_amount)) return null;
  try {
    depositColumns(input, Number.MAX_SAFE_INTEGER, currency);
    return null;
  } catch (err) {
    if (err instanceof FormError) return Object.keys(err.fields)[0] ?? null;
    throw err;
  }
}
export type ProposalInput = z.infer<ReturnType<typeof proposalFormSchema>>;

export const approvalFormSchema = z.object({
  approver_name: z
    .string()
    .trim()
    .min(1, 'dashboard:proposal.errors.approverRequired')
    .max(200, msg('dashboard:form.atMost', { max: 200 })),
});

export const rejectionFormSchema = z.object({
  reason: z
    .string()
    .trim()
    .max(2000, 'dashboard:form.atMost2000')
    .optional()
    .transform((v) => (v ? v : null)),
});

export const proposalListQuerySchema = z.object({
  status: z.enum(PROPOSAL_STATUSES).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(1000).catch(1).default(1),
});
