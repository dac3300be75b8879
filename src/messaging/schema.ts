// Shapes of messaging input: send requests, template edits, job payloads, Twilio callbacks.
import { z } from 'zod';
import { isPossiblePhoneNumber } from 'libphonenumber-js';

import { CHANNELS, CONTEXTS, DELIVERY_STATUSES, type Channel, type MessageContext } from '../db/rows.js';
import { uuidSchema } from '../lib/ids.js';

export { CHANNELS, CONTEXTS, DELIVERY_STATUSES, type Channel, type MessageContext };

export const CONTEXT_LABELS: Record<MessageContext, string> = {
  general: 'General: the customer page',
  proposal: 'Pending proposal',
  service: 'Completed service',
  invoice: 'Invoice',
};

export const CHANNEL_LABELS: Record<Channel, string> = { sms: 'Text message', email: 'Email' };

const optionalUuid = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .pipe(z.uuid('is not a valid id').optional())
  .optional();

/** Query string of GET /customers/:id/send, and the fields of its POST. */
export const sendQuerySchema = z.object({
  channel: z.enum(CHANNELS, 'choose text message or email').default('sms'),
  context: z.enum(CONTEXTS, 'choose what the message is about').default('general'),
  proposalId: optionalUuid,
  invoiceId: optionalUuid,
  jobId: optionalUuid,
});
export type SendQuery = z.infer<typeof sendQuerySchema>;

export const sendFormSchema = sendQuerySchema.extend({
  // The destination the contractor saw and confirmed; a change since then is refused.
  confirmTo: z.string().trim().min(1, 'confirm the destination first').max(320),
});

/** E.164: "+" then country code and number, and a plausible length for that country. */
export const e164Schema = z
  .string()
  .trim()
  .regex(/^\+[1-9]\d{6,14}$/, 'must be an international number like +15551234567')
  .refine((v) => isPossiblePhoneNumber(v), 'is not a possible phone number');

export const emailSchema = z.string().trim().toLowerCase().pipe(z.email('is not a valid email address').max(320));

export const templateFormSchema = z.object({
  channel: z.enum(CHANNELS),
  context: z.enum(CONTEXTS),
  subject: z.string().trim().max(200, 'keep the subject under 200 characters').optional(),
  body: z.string().trim().min(1, 'write the message').max(5000, 'keep the message under 5,000 characters'),
  intent: z.enum(['save', 'preview', 'reset']).default('save'),
});

export const templateQuerySchema = z.object({
  channel: z.enum(CHANNELS).default('sms'),
  context: z.enum(CONTEXTS).default('general'),
});

/** Job payloads carry ids only; the worker reloads the row. */
export const deliveryJobSchema = z.object({ deliveryId: uuidSchema, orgId: uuidSchema });
export type DeliveryJob = z.infer<typeof deliveryJobSchema>;

/** The fields of a Twilio message status callback we use. */
export const twilioStatusSchema = z.object({
  MessageSid: z.string().regex(/^(SM|MM)[0-9a-fA-F]{32}$/, 'not a message sid'),
  MessageStatus: z.enum([
    'accepted',
    'scheduled',
    'queued',
    'sending',
    'sent',
    'delivered',
    'undelivered',
    'failed',
    'read',
    'receiving',
    'received',
    'canceled',
    'partially_delivered',
  ]),
  ErrorCode: z.string().optional(),
  ErrorMessage: z.string().optional(),
});

export const messageLogQuerySchema = z.object({
  status: z
    .enum(DELIVERY_STATUSES)
    .optional()
    .or(z.literal('').transform(() => undefined)),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
});
