// zod schemas for the portal's forms and query strings.
import { z } from 'zod';
import { choiceForm } from '../lib/line-options.js';

export const pageQuery = z.object({
  // Not a page number ("-1", "abc", "1.5"): the first page, as a bare address shows.
  page: z.coerce.number().int().min(1).max(100_000).catch(1),
  // The property filter: anything that isn't an id is no filter (the SQL ignores ids not the customer's).
  property: z.uuid().optional().catch(undefined),
});

export const approveForm = z.object({
  approverName: z
    .string({ error: 'portal:proposal.nameRequired' })
    .trim()
    .min(2, 'portal:proposal.nameRequired')
    .max(200, 'portal:proposal.nameTooLong'),
  agree: z.literal('yes', { error: 'portal:proposal.agreeRequired' }),
  // What the customer was shown; a missing or altered value counts as "changed".
  contentSha256: z.string().max(64).optional().catch(undefined),
});

export const rejectForm = z.object({
  reason: z
    .string()
    .trim()
    .max(1000, 'portal:proposal.reasonTooLong')
    .optional()
    .transform((v) => (v ? v : null)),
});

/** The drawn signature (a PNG data URL signature_pad puts in the Approve form); empty when the typed name signs. */
export const signatureForm = z.object({
  signature: z
    .string()
    .optional()
    .transform((v) => (v ? v : null)),
});

export const changesForm = z.object({
  changes: z
    .string({ error: 'portal:proposal.changesRequired' })
    .trim()
    .min(1, 'portal:proposal.changesRequired')
    .max(2000, 'portal:proposal.changesTooLong'),
});

/** The customer's picks on the approval form, with the total the page showed for them (checked, never used as the amount). */
export const approveChoiceForm = choiceForm.extend({
  expectedTotalCents: z.coerce.number().int().min(0).optional().catch(undefined),
});
