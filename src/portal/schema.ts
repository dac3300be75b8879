// zod schemas for the portal's forms and query strings.
import { z } from 'zod';
import { choiceForm } from '../lib/line-options.js';

export const pageQuery = z.object({
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  // The property filter: anything that isn't an id is no filter (the SQL ignores ids not the customer's).
  property: z.uuid().optional().catch(undefined),
});

export const approveForm = z.object({
  approverName: z.string({ error: 'Type your full name' }).trim().min(2, 'Type your full name').max(200, 'Use at most 200 characters'),
  agree: z.literal('yes', { error: 'Tick the box to confirm you agree' }),
  // What the customer was shown; a missing or altered value counts as "changed".
  contentSha256: z.string().max(64).optional().catch(undefined),
});

export const rejectForm = z.object({
  reason: z
    .string()
    .trim()
    .max(1000, 'Use at most 1000 characters')
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
    .string({ error: 'Tell them what you would like changed' })
    .trim()
    .min(1, 'Tell them what you would like changed')
    .max(2000, 'Use at most 2000 characters'),
});

/** The customer's picks on the approval form, with the total the page showed for them (checked, never used as the amount). */
export const approveChoiceForm = choiceForm.extend({
  expectedTotalCents: z.coerce.number().int().min(0).optional().catch(undefined),
});
