// Shapes of messaging input: send requests, template edits, job payloads, Twilio callbacks.
import { z } from 'zod';
import { isPossiblePhoneNumber } from 'libphonenumber-js';

import { CHANNELS, CONTEXTS, DELIVERY_STATUSES, type Channel, type MessageContext } from '../db/rows.js';
import { LANGUAGES } from '../i18n/index.js';
import { uuidSchema } from '../lib/ids.js';

export { CHANNELS, CONTEXTS, DELIVERY_STATUSES, type Channel, type MessageContext };

/** What a message is about, as catalogue keys (translate with t/translate, `{{translate label}}` in a template). */
export const CONTEXT_LABELS: Record<MessageContext, string> = {
  general: 'messages:context.general',
  proposal: 'messages:context.proposal',
  service: 'messages:context.service',
  invoice: 'messages:context.invoice',
};

export const CHANNEL_LABELS: Record<Channel, string> = { sms: 'messages:channel.sms', email: 'messages:channel.email' };

const optionalUuid = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .pipe(z.uuid('messages:schema.badId').optional())
  .optional();

/** Query string of GET /customers/:id/send, and the fields of its POST. */
export const sendQuerySchema = z.object({
  channel: z.enum(CHANNELS, 'messages:schema.channel').default('sms'),
  context: z.enum(CONTEXTS, 'messages:schema.context').default('general'),
  proposalId: optionalUuid,
  invoiceId: optionalUuid,
  jobId: optionalUuid,
});
export type SendQuery = z.infer<typeof sendQuerySchema>;

export const sendFormSchema = sendQuerySchema.extend({
  // The destination the contractor saw and confirmed; a change since then is refused.
  confirmTo: z.string().trim().min(1, 'messages:schema.confirmTo').max(320),
});

/** E.164: "+" then country code and number, and a plausible length for that country. */
export const e164Schema = z
  .string()
  .trim()
  .regex(/^\+[1-9]\d{6,14}$/, 'messages:schema.phoneFormat')
  .refine((v) => isPossiblePhoneNumber(v), 'messages:schema.phoneImpossible');

export const emailSchema = z.string().trim().toLowerCase().pipe(z.email('messages:schema.emailInvalid').max(320));

export const templateFormSchema = z.object({
  channel: z.enum(CHANNELS),
  context: z.enum(CONTEXTS),
  language: z.enum(LANGUAGES).optional(),
  subject: z.string().trim().max(200, 'messages:schema.subjectLong').optional(),
  body: z.string().trim().min(1, 'messages:schema.bodyMissing').max(5000, 'messages:schema.bodyLong'),
  intent: z.enum(['save', 'preview', 'reset']).default('save'),
});

export const templateQuerySchema = z.object({
  channel: z.enum(CHANNELS).default('sms'),
  context: z.enum(CONTEXTS).default('general'),
  /** The language whose wording is edited; none: the org's. */
  language: z.enum(LANGUAGES).optional(),
});

/** Job payloads carry ids only; the worker reloads the row. */
export const deliveryJobSchema = z.object({ deliveryId: uuidSchema, orgId: uuidSchema });
export type DeliveryJob = z.infer<typeof deliveryJobSchema>;

/** The fields of a Twilio message status callback we use. */
export const twilioStatusSchema = z.object({
  MessageSid: z.string().regex(/^(SM|MM)[0-9a-fA-F]{32}$/, 'messages:schema.messageSid'),
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
