// Admin pages for jobs, and approving a proposal (which makes its job).
import { Router } from 'express';
import { formFailure, orgPage } from '../http/page.js';
import type { Db } from '../db/tenancy.js';
import { formatArrivalWindow, instantToZoned, isoDate } from '../lib/dates.js';
import { formValues, parseForm } from '../lib/forms.js';
import { idOrNotFound, routeId } from '../lib/ids.js';
import { pageOf, pageWindow, statusFilterOptions } from '../lib/pagination.js';
import { formatLocale, languageOf, msg } from '../i18n/index.js';
import { customerOptionsFor, getLead, leadName, listProperties, propertyOptionsFor } from '../leads/queries.js';
import { approvalFormSchema } from '../proposals/schema.js';
import { getProposal } from '../proposals/queries.js';
import { approveProposal } from './approve-proposal.js';
import { createJob, setJobStatus, updateJob } from './commands.js';
import { weekSchedule } from './schedule.js';
import { getJob, JOB_TRANSITIONS, listJobs, listUpcomingJobs, type JobRow } from './queries.js';
import { ARRIVAL_WINDOWS, DEFAULT_ARRIVAL_WINDOW, JOB_STATUSES, jobFormSchema, jobListQuerySchema, jobStatusFormSchema } from './schema.js';

export const adminRouter = Router();

async function formLocals(db: Db, title: string, action: string, values: Record<string, unknown>, timeZone?: string) {
  return {
    title,
    action,
    values,
    timeHint: timeZone ? msg('dashboard:job.timeHint', { timeZone }) : undefined,
    leadOptions: await customerOptionsFor(db, values),
    propertyOptions: await propertyOptionsFor(db, values.lead_id),
    arrivalOptions: ARRIVAL_WINDOWS.map((w) => ({ value: String(w.minutes), label: w.label })),
  };
}

function valuesFrom(job: JobRow, timeZone: string) {
  const when = job.scheduled_at ? instantToZoned(job.scheduled_at, timeZone) : { date: '', time: '' };
  return {
    lead_id: job.lead_id,
    property_id: job.property_id ?? '',
    service_type: job.service_type,
    scheduled_date: when.date,
    scheduled_time: when.time,
    address: job.address ?? '',
    technician: job.technician ?? '',
    arrival_window_minutes: String(job.arrival_window_minutes),
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
    const page = pageOf(rows, query.page, '/jobs', query.status ? { status: query.status } : {});
    return {
      render: 'admin/jobs/index',
      locals: {
        title: 'dashboard:nav.jobs',
        upcoming,
        jobs: page.rows,
        query,
        statusOptions: statusFilterOptions(JOB_STATUSES),
        pagination: page.pagination,
      },
    };
  }),
);

adminRouter.get(
  '/jobs/new',
  orgPage(async ({ req, db, org }) => {
    const lead = req.query.leadId ? await getLead(db, idOrNotFound(req.query.leadId)) : null;
    // With several properties the address comes from the chosen one, so it isn't filled in here.
    const severalProperties = lead ? (await listProperties(db, lead.id)).length > 1 : false;
    return {
      render: 'admin/jobs/form',
      locals: await formLocals(
        db,
        'dashboard:job.newTitle',
        '/jobs',
        {
          lead_id: lead?.id ?? '',
          address: severalProperties ? '' : (lead?.address ?? ''),
          arrival_window_minutes: String(DEFAULT_ARRIVAL_WINDOW),
        },
        org.time_zone,
      ),
    };
  }),
);

/** "Job saved.", and when its day has gone by while it is still to do, what that means. */
function savedFlash(job: { status: string; scheduled_at: Date | string | null }): string {
  const past = job.status === 'scheduled' && job.scheduled_at !== null && new Date(job.scheduled_at).getTime() < Date.now();
  return past ? 'dashboard:job.savedPast' : 'dashboard:job.saved';
}

adminRouter.post(
  '/jobs',
  orgPage(async ({ req, db, org, actor }) => {
    try {
      const job = await createJob(db, parseForm(jobFormSchema, req.body), org.time_zone, actor);
      return { redirect: `/jobs/${job.id}`, flash: savedFlash(job) };
    } catch (err) {
      return formFailure(
        'admin/jobs/form',
        err,
        await formLocals(db, 'dashboard:job.newTitle', '/jobs', formValues(req.body), org.time_zone),
      );
    }
  }),
);

adminRouter.get(
  // i18n-exempt: a route path
  '/jobs/schedule',
  orgPage(async ({ req, db, org }) => {
    // ?week= any day of the week to show; one that can't be read shows this week, and says so.
    const week = (req.query as { week?: unknown }).week;
    const day = week === undefined ? undefined : isoDate.safeParse(week);
    const schedule = await weekSchedule(
      db,
      { timeZone: org.time_zone, locale: formatLocale(languageOf(org.locale), org.locale), weekLocale: org.locale },
      day?.success ? day.data : undefined,
    );
    return {
      render: 'admin/jobs/schedule',
      locals: { title: 'dashboard:schedule.title', schedule, weekUnreadable: day?.success === false },
    };
  }),
);

adminRouter.get(
  '/jobs/:id',
  orgPage(async ({ req, db, org }) => {
    const job = await getJob(db, routeId(req.params));
    const lead = await getLead(db, job.lead_id);
    // Its invoices, void ones and those made from its proposal included; one not void bills the work
    // (db/sql/invoices.ts's invoicesBilling, the same set) and is enough to stop offering another.
    const invoices = await db('invoices')
      .where((q) => {
        void q.where({ job_id: job.id });
        if (job.proposal_id) void q.orWhere({ proposal_id: job.proposal_id });
      })
      .orderBy('number')
      .select<{ id: string; number: number; status: string }[]>('id', 'number', 'status');
    const billed = invoices.some((invoice) => invoice.status !== 'void');
    return {
      render: 'admin/jobs/show',
      locals: {
        title: job.service_type,
        job,
        lead,
        leadName: leadName(lead),
        invoices,
        billed,
        // The day and the arrival window the customer was promised, as their portal says it.
        arrival: formatArrivalWindow(
          job.scheduled_at,
          job.arrival_window_minutes,
          org.time_zone,
          formatLocale(languageOf(org.locale), org.locale),
        ),
        editable: job.status === 'scheduled' || job.status === 'in_progress',
        nextStatuses: JOB_TRANSITIONS[job.status].map((s) => ({ value: s, label: `dashboard:words.${s}` })),
      },
    };
  }),
);

adminRouter.get(
  '/jobs/:id/edit',
  orgPage(async ({ req, db, org }) => {
    const job = await getJob(db, routeId(req.params));
    return {
      render: 'admin/jobs/form',
      locals: {
        ...(await formLocals(db, 'dashboard:job.editTitle', `/jobs/${job.id}`, valuesFrom(job, org.time_zone), org.time_zone)),
        job,
      },
    };
  }),
);

adminRouter.post(
  '/jobs/:id',
  orgPage(async ({ req, db, org, actor }) => {
    const job = await getJob(db, routeId(req.params));
    try {
      const saved = await updateJob(db, job.id, parseForm(jobFormSchema, req.body), org.time_zone, actor);
      return { redirect: `/jobs/${job.id}`, flash: savedFlash(saved) };
    } catch (err) {
      return formFailure('admin/jobs/form', err, {
        ...(await formLocals(db, 'dashboard:job.editTitle', `/jobs/${job.id}`, formValues(req.body), org.time_zone)),
        job,
      });
    }
  }),
);

adminRouter.post(
  '/jobs/:id/status',
  orgPage(async ({ req, db, actor }) => {
    const job = await getJob(db, routeId(req.params));
    const { status } = parseForm(jobStatusFormSchema, req.body);
    const updated = await setJobStatus(db, job.id, status, actor);
    return { redirect: `/jobs/${updated.id}`, flash: msg('dashboard:job.marked', { status }) };
  }),
);

// A phone or in-person approval recorded by staff: the proposal is approved and its job made.
adminRouter.post(
  '/proposals/:id/approve',
  orgPage(async ({ req, db, actor }) => {
    const proposal = await getProposal(db, routeId(req.params));
    const { approver_name } = parseForm(approvalFormSchema, req.body);
    const result = await approveProposal(
      db,
      proposal.id,
      { source: 'staff', approverName: approver_name, ip: null, userAgent: null },
      actor,
    );
    return {
      redirect: `/jobs/${result.jobId}`,
      flash: result.alreadyDecided
        ? msg('dashboard:job.alreadyApproved', { number: proposal.number })
        : msg('dashboard:job.approvalRecorded', { number: proposal.number }),
    };
  }),
);
