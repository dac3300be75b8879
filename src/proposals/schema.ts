// Proposal forms.
import { z } from 'zod';
import { lineItemsSchema, parseTaxRate } from './line-items.js';

export const PROPOSAL_STATUSES = ['draft', 'pending', 'approved', 'rejected'] as const;
export type ProposalStatus = (typeof PROPOSAL_STATUSES)[number];

export const isoDate = z
  .string()
  .trim()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'Enter a date as YYYY-MM-DD')
  .refine((v) => {
    const d = new Date(`${v}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(v) && v >= '2000-01-01' && v <= '2100-12-31';
  }, 'Enter a real date');

export const optionalIsoDate = z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), isoDate.optional());

export const taxRateField = z
  .string()
  .optional()
  .transform((text, ctx) => {
    const bps = parseTaxRate(text ?? '');
    if (bps === null) {
      ctx.addIssue({ code: 'custom', message: 'Enter a tax rate between 0 and 100 (e.g. 8.25)' });
      return z.NEVER;
    }
    return bps;
  });

export function proposalFormSchema(currency: string) {
  return z.object({
    lead_id: z.uuid('Choose a customer'),
    title: z.string().trim().min(1, 'Give the proposal a title').max(200, 'At most 200 characters'),
    tax_rate: taxRateField,
    valid_until: optionalIsoDate,
    customer_message: z.string().trim().max(5000, 'At most 5,000 characters').default(''),
    internal_notes: z.string().trim().max(10_000, 'At most 10,000 characters').default(''),
    items: lineItemsSchema(currency),
  });
}
export type ProposalInput = z.infer<ReturnType<typeof proposalFormSchema>>;

export const approvalFormSchema = z.object({
  approver_name: z.string().trim().min(1, 'Enter the name of the person who approved').max(200, 'At most 200 characters'),
});

export const rejectionFormSchema = z.object({
  reason: z
    .string()
    .trim()
    .max(2000, 'At most 2,000 characters')
    .optional()
    .transform((v) => (v ? v : null)),
});

export const proposalListQuerySchema = z.object({
  status: z.enum(PROPOSAL_STATUSES).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(1000).catch(1).default(1),
});
