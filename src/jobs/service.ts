// Jobs: scheduled work for a customer, often created by an approved proposal.
import type { Db } from '../db/tenancy.js';
import { recordAudit, type Actor } from '../audit.js';
import { conflict, fieldError, notFound } from '../http/errors.js';
import { currentOrgId, idOrNotFound } from '../leads/common.js';
import { getLead } from '../leads/service.js';
import type { JobInput, JobStatus } from './schema.js';
import { zonedToInstant } from './time.js';

export interface JobRow {
  id: string;
  org_id: string;
  lead_id: string;
  proposal_id: string | null;
  service_type: string;
  scheduled_at: Date | null;
  address: string | null;
  technician: string | null;
  status: JobStatus;
  customer_notes: string;
  internal_notes: string;
  completed_at: Date | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface JobListRow extends JobRow {
  lead_first_name: string;
  lead_last_name: string;
}

/** Which status may follow which; anything else is refused. */
export const JOB_TRANSITIONS: Record<JobStatus, JobStatus[]> = {
  scheduled: ['in_progress', 'completed', 'cancelled'],
  in_progress: ['scheduled', 'completed', 'cancelled'],
  completed: [],
  cancelled: ['scheduled'],
};

export async function getJob(db: Db, id: string): Promise<JobRow> {
  const job = await db('jobs').where({ id: idOrNotFound(id) }).first<JobRow | undefined>();
  if (!job) throw notFound('That job does not exist');
  return job;
}

function scheduledInstant(input: JobInput, timeZone: string): Date | null {
  if (!input.scheduled_date || !input.scheduled_time) return null;
  const instant = zonedToInstant(input.scheduled_date, input.scheduled_time, timeZone);
  if (!instant) throw fieldError('scheduled_time', `That time does not exist in ${timeZone} (the clocks change that night)`);
  return instant;
}

export async function createJob(db: Db, input: JobInput, timeZone: string, actor: Actor): Promise<JobRow> {
  const lead = await getLead(db, input.lead_id).catch(() => {
    throw fieldError('lead_id', 'Choose a customer');
  });
  const [job] = await db('jobs')
    .insert({
      org_id: currentOrgId(db),
      lead_id: lead.id,
      service_type: input.service_type,
      scheduled_at: scheduledInstant(input, timeZone),
      address: input.address ?? lead.address,
      technician: input.technician,
      customer_notes: input.customer_notes,
      internal_notes: input.internal_notes,
      created_by: actor.type === 'user' ? actor.userId : null,
    })
    .returning<JobRow[]>('*');
  await recordAudit(db, { actor, action: 'job.created', subjectType: 'job', subjectId: job.id, data: { service_type: job.service_type } });
  return job;
}

export async function updateJob(db: Db, id: string, input: JobInput, timeZone: string, actor: Actor): Promise<JobRow> {
  const before = await getJob(db, id);
  if (before.status === 'completed' || before.status === 'cancelled') {
    throw conflict(`This job is ${before.status}; reopen it before editing.`);
  }
  const lead = await getLead(db, input.lead_id).catch(() => {
    throw fieldError('lead_id', 'Choose a customer');
  });
  if (before.proposal_id && lead.id !== before.lead_id) {
    throw fieldError('lead_id', 'This job comes from a proposal, so its customer cannot change');
  }
  const [job] = await db('jobs')
    .where({ id: before.id })
    .update({
      lead_id: lead.id,
      service_type: input.service_type,
      scheduled_at: scheduledInstant(input, timeZone),
      address: input.address ?? lead.address,
      technician: input.technician,
      customer_notes: input.customer_notes,
      internal_notes: input.internal_notes,
      updated_at: db.fn.now(),
    })
    .returning<JobRow[]>('*');
  await recordAudit(db, { actor, action: 'job.updated', subjectType: 'job', subjectId: job.id, data: { scheduled_at: job.scheduled_at } });
  return job;
}

export async function setJobStatus(db: Db, id: string, status: JobStatus, actor: Actor): Promise<JobRow> {
  const before = await db('jobs').where({ id: idOrNotFound(id) }).forUpdate().first<JobRow | undefined>();
  if (!before) throw notFound('That job does not exist');
  if (before.status === status) return before;
  if (!JOB_TRANSITIONS[before.status].includes(status)) {
    throw conflict(`A ${before.status.replace('_', ' ')} job cannot become ${status.replace('_', ' ')}.`);
  }
  const [job] = await db('jobs')
    .where({ id: before.id })
    .update({ status, completed_at: status === 'completed' ? db.fn.now() : null, updated_at: db.fn.now() })
    .returning<JobRow[]>('*');
  await recordAudit(db, { actor, action: 'job.status_changed', subjectType: 'job', subjectId: job.id, data: { from: before.status, to: status } });
  return job;
}

/**
 * The job of an approved proposal. Unique per (org, proposal): a second call,
 * however concurrent, returns the existing job instead of a new one.
 */
export async function createJobForProposal(
  db: Db,
  proposal: { id: string; lead_id: string; title: string },
  actor: Actor,
): Promise<JobRow> {
  const lead = await getLead(db, proposal.lead_id);
  const inserted = await db('jobs')
    .insert({
      org_id: currentOrgId(db),
      lead_id: proposal.lead_id,
      proposal_id: proposal.id,
      service_type: proposal.title,
      address: lead.address,
      created_by: actor.type === 'user' ? actor.userId : null,
    })
    .onConflict(['org_id', 'proposal_id'])
    .ignore()
    .returning<JobRow[]>('*');
  if (inserted.length) {
    await recordAudit(db, {
      actor,
      action: 'job.created',
      subjectType: 'job',
      subjectId: inserted[0].id,
      data: { proposal_id: proposal.id, service_type: proposal.title },
    });
    return inserted[0];
  }
  const existing = await db('jobs').where({ proposal_id: proposal.id }).first<JobRow>();
  return existing;
}

export async function listJobs(
  db: Db,
  filter: { leadId?: string; status?: JobStatus; limit?: number; offset?: number } = {},
): Promise<JobListRow[]> {
  const query = db('jobs as j')
    .join('leads as l', 'l.id', 'j.lead_id')
    .select('j.*', 'l.first_name as lead_first_name', 'l.last_name as lead_last_name')
    .orderByRaw('j.scheduled_at desc nulls first, j.created_at desc, j.id')
    .limit(filter.limit ?? 50)
    .offset(filter.offset ?? 0);
  if (filter.leadId) query.where('j.lead_id', filter.leadId);
  if (filter.status) query.where('j.status', filter.status);
  return query;
}

/** Scheduled or in-progress jobs from now on, soonest first; unscheduled ones after. */
export async function listUpcomingJobs(db: Db, limit = 20, now: Date = new Date()): Promise<JobListRow[]> {
  return db('jobs as j')
    .join('leads as l', 'l.id', 'j.lead_id')
    .select('j.*', 'l.first_name as lead_first_name', 'l.last_name as lead_last_name')
    .whereIn('j.status', ['scheduled', 'in_progress'])
    .where((q) => q.where('j.scheduled_at', '>=', new Date(now.getTime() - 12 * 3600_000)).orWhereNull('j.scheduled_at'))
    .orderByRaw('j.scheduled_at asc nulls last, j.created_at')
    .limit(limit);
}
