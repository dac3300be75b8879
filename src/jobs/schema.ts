// Job forms.
import { z } from 'zod';
import { JOB_STATUSES } from '../db/rows.js';
import { isoDate } from '../lib/dates.js';
import { documentPropertyField } from '../leads/schema.js';
import { msg } from '../i18n/index.js';

export { JOB_STATUSES };

/** The arrival windows a job can promise (the column allows 30–720 minutes). */
export const ARRIVAL_WINDOWS = [
  { minutes: 60, label: 'dashboard:job.window.h1' },
  { minutes: 120, label: 'dashboard:job.window.h2' },
  { minutes: 180, label: 'dashboard:job.window.h3' },
  { minutes: 240, label: 'dashboard:job.window.h4' },
  { minutes: 480, label: 'dashboard:job.window.h8' },
] as const;
export const DEFAULT_ARRIVAL_WINDOW = 120;

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, msg('dashboard:form.atMost', { max }))
    .optional()
    .transform((v) => (v ? v : null));

export const jobFormSchema = z
  .object({
    lead_id: z.uuid('dashboard:doc.errors.chooseCustomer'),
    property_id: documentPropertyField,
    service_type: z
      .string()
      .trim()
      .min(1, 'dashboard:job.errors.serviceRequired')
      .max(200, msg('dashboard:form.atMost', { max: 200 })),
    scheduled_date: z.preprocess((v) => (v === '' ? undefined : v), isoDate.optional()),
    scheduled_time: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z
        .string()
        .trim()
        .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'dashboard:job.errors.time')
        .optional(),
    ),
    address: optionalText(500),
    technician: optionalText(200),
    // The customer sees "arriving between 9:00 and 11:00", not an exact minute.
    arrival_window_minutes: z.coerce
      .number({ error: 'dashboard:job.errors.arrivalWindow' })
      .int('dashboard:job.errors.arrivalWindow')
      .refine((v) => ARRIVAL_WINDOWS.some((w) => w.minutes === v), 'dashboard:job.errors.arrivalWindow')
      .default(DEFAULT_ARRIVAL_WINDOW),
    customer_notes: z.string().trim().max(5000, 'common:errors.atMost5000').default(''),
    internal_notes: z.string().trim().max(10_000, 'common:errors.atMost10000').default(''),
  })
  .superRefine((v, ctx) => {
    if (v.scheduled_time && !v.scheduled_date) {
      ctx.addIssue({ code: 'custom', path: ['scheduled_date'], message: 'dashboard:job.errors.dateForTime' });
    }
    if (v.scheduled_date && !v.scheduled_time) {
      ctx.addIssue({ code: 'custom', path: ['scheduled_time'], message: 'dashboard:job.errors.startTime' });
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
