// Requests for work: the portal's forms and the dashboard's list query.
import { msg } from '../i18n/index.js';
import { z } from 'zod';

export const WORK_REQUEST_STATUSES = ['new', 'converted', 'closed'] as const;
export type WorkRequestStatus = (typeof WORK_REQUEST_STATUSES)[number];

/** At most this many photos per request (the portal form says so too). */
export const MAX_REQUEST_PHOTOS = 5;
/** Each photo as uploaded; it is re-encoded to a JPEG of at most 1600 px a side. */
export const MAX_REQUEST_PHOTO_BYTES = 10 * 1024 * 1024;

const optionalLine = (max: number) =>
  z
    .string()
    .trim()
    .max(max, msg('dashboard:form.atMost', { max }))
    .optional()
    .transform((v) => v ?? '');

/** "Request work": what, where, when suits the customer (photos come as files beside it). */
export const workRequestForm = z.object({
  description: z
    .string({ error: 'dashboard:request.errors.descriptionRequired' })
    .trim()
    .min(1, 'dashboard:request.errors.descriptionRequired')
    .max(2000, 'dashboard:form.atMost2000'),
  /** One of the customer's properties; empty: the address typed (or the one on file). */
  property_id: z
    .union([z.literal(''), z.uuid('portal:request.errors.property')], 'portal:request.errors.property')
    .optional()
    .transform((v) => v || null),
  address: optionalLine(500),
  preferred_times: optionalLine(500),
});

/** "Ask to reschedule" an upcoming visit: when suits them instead, and why. */
export const rescheduleForm = z.object({
  preferred_times: z
    .string({ error: 'dashboard:request.errors.timesRequired' })
    .trim()
    .min(1, 'dashboard:request.errors.timesRequired')
    .max(500, msg('dashboard:form.atMost', { max: 500 })),
  description: z
    .string({ error: 'dashboard:request.errors.messageRequired' })
    .trim()
    .min(1, 'dashboard:request.errors.messageRequired')
    .max(2000, 'dashboard:form.atMost2000'),
});

export const convertForm = z.object({
  to: z.enum(['proposal', 'job'], 'dashboard:request.errors.convertTo'),
});

export const requestListQuery = z.object({
  status: z.enum(WORK_REQUEST_STATUSES).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(1000).catch(1).default(1),
});
