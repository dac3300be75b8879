// Job forms.
import { z } from 'zod';
import { JOB_STATUSES } from '../db/rows.js';
import { isoDate } from '../lib/dates.js';
import { documentPropertyField } from '../leads/schema.js';

export { JOB_STATUSES };

/** The arrival windows a job can promise (the column allows 30–720 minutes). */
export const ARRIVAL_WINDOWS = [
  { minutes: 60, label: '1 hour' },
  { minutes: 120, label: '2 hours' },
  { minutes: 180, label: '3 hours' },
  { minutes: 240, label: '4 hours' },
  { minutes: 480, label: '8 hours (all day)' },
] as const;
export const DEFAULT_ARRIVAL_WINDOW = 120;

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `At most ${max} characters`)
    .optional()
    .transform((v) => (v ? v : null));

export const jobFormSchema = z
  .object({
    lead_id: z.uuid('Choose a customer'),
    property_id: documentPropertyField,
    service_type: z.string().trim().min(1, 'Enter the service').max(200, 'At most 200 characters'),
    scheduled_date: z.preprocess((v) => (v === '' ? undefined : v), isoDate.optional()),
    scheduled_time: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z
        .string()
        .trim()
        .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'Enter a time like 09:30')
        .optional(),
    ),
    address: optionalText(500),
    technician: optionalText(200),
    // The customer sees "arriving between 9:00 and 11:00", not an exact minute.
    arrival_window_minutes: z.coerce
      .number({ error: 'Choose an arrival window' })
      .int('Choose an arrival window')
      .refine((v) => ARRIVAL_WINDOWS.some((w) => w.minutes === v), 'Choose an arrival window')
      .default(DEFAULT_ARRIVAL_WINDOW),
    customer_notes: z.string().trim().max(5000, 'At most 5,000 characters').default(''),
    internal_notes: z.string().trim().max(10_000, 'At most 10,000 characters').default(''),
  })
  .superRefine((v, ctx) => {
    if (v.scheduled_time && !v.scheduled_date) {
      ctx.addIssue({ code: 'custom', path: ['scheduled_date'], message: 'Choose a date for this time' });
    }
    if (v.scheduled_date && !v.scheduled_time) {
      ctx.addIssue({ code: 'custom', path: ['scheduled_time'], message: 'Choose a start time' });
    }
  });
export type JobInput = z.infer<typeof jobFormSchema>;

export const jobStatusFormSchema = z.object({
  status: z.enum(JOB_STATUSES, 'Choose a status'),
});

export const jobListQuerySchema = z.object({
  status: z.enum(JOB_STATUSES).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(1000).catch(1).default(1),
});
