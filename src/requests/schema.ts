// Requests for work: the portal's forms and the dashboard's list query.
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
    .max(max, `At most ${max} characters`)
    .optional()
    .transform((v) => v ?? '');

/** "Request work": what, where, when suits the customer (photos come as files beside it). */
export const workRequestForm = z.object({
  description: z
    .string({ error: 'Tell us what you need done' })
    .trim()
    .min(1, 'Tell us what you need done')
    .max(2000, 'At most 2,000 characters'),
  address: optionalLine(500),
  preferred_times: optionalLine(500),
});

/** "Ask to reschedule" an upcoming visit: when suits them instead, and why. */
export const rescheduleForm = z.object({
  preferred_times: z
    .string({ error: 'Tell us which days or times suit you' })
    .trim()
    .min(1, 'Tell us which days or times suit you')
    .max(500, 'At most 500 characters'),
  description: z.string({ error: 'Add a short message' }).trim().min(1, 'Add a short message').max(2000, 'At most 2,000 characters'),
});

export const convertForm = z.object({
  to: z.enum(['proposal', 'job'], 'Choose a proposal or a job'),
});

export const requestListQuery = z.object({
  status: z.enum(WORK_REQUEST_STATUSES).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(1000).catch(1).default(1),
});
