// Admin pages for jobs.
import { Router, type Request } from 'express';
import { pageOf, pageWindow, statusFilterOptions } from '../http/listing.js';
import { formFailure, orgPage } from '../http/page.js';
import { parseForm } from '../http/validate.js';
import { idOrNotFound, routeId } from '../leads/common.js';
import { getLead, leadChoices, leadName } from '../leads/service.js';
import { createInvoiceFromJob } from '../invoices/service.js';
import type { Db } from '../db/tenancy.js';
import { JOB_STATUSES, jobFormSchema, jobListQuerySchema, jobStatusFormSchema } from './schema.js';
import { createJob, getJob, JOB_TRANSITIONS, listJobs, listUpcomingJobs, setJobStatus, updateJob, type JobRow } from './service.js';
import { instantToZoned } from './time.js';

export const adminRouter = Router();

function bodyValues(req: Request): Record<string, unknown> {
  const { _csrf, ...values } = (req.body ?? {}) as Record<string, unknown>;
  return values;
}

async function formLocals(db: Db, title: string, action: string, values: Record<string, unknown>, timeZone?: string) {
  const leadId = typeof values.lead_id === 'string' && /^[0-9a-f-]{36}$/.test(values.lead_id) ? values.lead_id : null;
  const leads = await leadChoices(db, leadId);
  return {
    title,
    action,
    values,
    timeHint: timeZone ? `In your business's time zone (${timeZone}).` : undefined,
    leadOptions: [{ value: '', label: 'Choose a customer…' }, ...leads.map((l) => ({ value: l.id, label: leadName(l) }))],
  };
}

function valuesFrom(job: JobRow, timeZone: string) {
  const when = job.scheduled_at ? instantToZoned(job.scheduled_at, timeZone) : { date: '', time: '' };
  return {
    lead_id: job.lead_id,
    service_type: job.service_type,
    scheduled_date: when.date,
    scheduled_time: when.time,
    address: job.address ?? '',
    technician: job.technician ?? '',
    customer_notes: job.customer_notes,
    internal_notes: job.internal_notes,
  };
}

adminRouter.get(
  '/jobs',
  orgPage(async ({ req, db }) => {
    const query = jobListQuerySchema.parse(req.query);
    const upcoming = query.status || query.page > 1 ? [] : await listUpcomingJobs(db, 20);
    const rows = await listJobs(db, { status: query.status, ...pageWindow(query.page) });
    const keep: Record<string, string> = query.status ? { status: query.status } : {};
    const page = pageOf(rows, query.page, '/jobs', keep);
    return {
      render: 'admin/jobs/index',
      locals: {
        title: 'Jobs',
        upcoming,
        jobs: page.rows,
        query,
        statusOptions: statusFilterOptions(JOB_STATUSES),
        prevUrl: page.prevUrl,
        nextUrl: page.nextUrl,
      },
    };
  }),
);

adminRouter.get(
  '/jobs/new',
  orgPage(async ({ req, db, org }) => {
    const lead = req.query.leadId ? await getLead(db, idOrNotFound(req.query.leadId)) : null;
    return {
      render: 'admin/jobs/form',
      locals: await formLocals(db, 'New job', '/jobs', { lead_id: lead?.id ?? '', address: lead?.address ?? '' }, org.time_zone),
    };
  }),
);

adminRouter.post(
  '/jobs',
  orgPage(async ({ req, db, org, actor }) => {
    try {
      const job = await createJob(db, parseForm(jobFormSchema, req.body), org.time_zone, actor);
      return { redirect: `/jobs/${job.id}`, flash: 'Job saved.' };
    } catch (err) {
      return formFailure('admin/jobs/form', err, await formLocals(db, 'New job', '/jobs', bodyValues(req), org.time_zone));
    }
  }),
);

adminRouter.get(
  '/jobs/:id',
  orgPage(async ({ req, db }) => {
    const job = await getJob(db, routeId(req.params));
    const lead = await getLead(db, job.lead_id);
    const invoices = await db('invoices').where({ job_id: job.id }).orderBy('number').select('id', 'number', 'status');
    return {
      render: 'admin/jobs/show',
      locals: {
        title: job.service_type,
        job,
        lead,
        leadName: leadName(lead),
        invoices,
        editable: job.status === 'scheduled' || job.status === 'in_progress',
        nextStatuses: JOB_TRANSITIONS[job.status].map((s) => ({ value: s, label: s.replace('_', ' ') })),
      },
    };
  }),
);

adminRouter.get(
  '/jobs/:id/edit',
  orgPage(async ({ req, db, org }) => {
    const job = await getJob(db, routeId(req.params));
    return { render: 'admin/jobs/form', locals: { ...(await formLocals(db, `Edit job`, `/jobs/${job.id}`, valuesFrom(job, org.time_zone), org.time_zone)), job } };
  }),
);

adminRouter.post(
  '/jobs/:id',
  orgPage(async ({ req, db, org, actor }) => {
    const job = await getJob(db, routeId(req.params));
    try {
      await updateJob(db, job.id, parseForm(jobFormSchema, req.body), org.time_zone, actor);
      return { redirect: `/jobs/${job.id}`, flash: 'Job saved.' };
    } catch (err) {
      return formFailure('admin/jobs/form', err, { ...(await formLocals(db, 'Edit job', `/jobs/${job.id}`, bodyValues(req), org.time_zone)), job });
    }
  }),
);

adminRouter.post(
  '/jobs/:id/status',
  orgPage(async ({ req, db, actor }) => {
    const job = await getJob(db, routeId(req.params));
    const { status } = parseForm(jobStatusFormSchema, req.body);
    const updated = await setJobStatus(db, job.id, status, actor);
    return { redirect: `/jobs/${updated.id}`, flash: `Job marked ${status.replace('_', ' ')}.` };
  }),
);

adminRouter.post(
  '/jobs/:id/invoice',
  orgPage(async ({ req, db, org, actor }) => {
    const invoice = await createInvoiceFromJob(db, routeId(req.params), org, actor);
    return { redirect: `/invoices/${invoice.id}`, flash: `Draft invoice #${invoice.number} created from the job. Check the prices, then issue it.` };
  }),
);
