// Jobs: the only writer of `jobs`. Scheduled work for a customer, often made by an approved proposal.
import { recordAudit, type Actor } from '../db/audit.js';
import type { JobRow, JobStatus } from '../db/rows.js';
import { currentOrgId, type Db } from '../db/tenancy.js';
import { zonedToInstant } from '../lib/dates.js';
import { conflict, fieldError } from '../lib/errors.js';
import { msg } from '../i18n/index.js';
import { chosenProperty, getLead } from '../leads/queries.js';
import type { PropertyRow } from '../db/rows.js';
import { getJob, JOB_TRANSITIONS } from './queries.js';
import type { JobInput } from './schema.js';

function scheduledInstant(input: JobInput, timeZone: string): Date | null {
  if (!input.scheduled_date || !input.scheduled_time) return null;
  const instant = zonedToInstant(input.scheduled_date, input.scheduled_time, timeZone);
  if (!instant) throw fieldError('scheduled_time', msg('dashboard:job.errors.skippedTime', { timeZone }));
  return instant;
}

async function leadFor(db: Db, leadId: string) {
  return getLead(db, leadId).catch(() => {
    throw fieldError('lead_id', 'dashboard:doc.errors.chooseCustomer');
  });
}

/** The columns a job form sets, on create and on edit alike. */
function formColumns(input: JobInput, lead: { id: string; address: string | null }, property: PropertyRow | null, timeZone: string) {
  return {
    lead_id: lead.id,
    property_id: property?.id ?? null,
    service_type: input.service_type,
    scheduled_at: scheduledInstant(input, timeZone),
    address: input.address ?? property?.address ?? lead.address,
    technician: input.technician,
    arrival_window_minutes: input.arrival_window_minutes,
    customer_notes: input.customer_notes,
    internal_notes: input.internal_notes,
  };
}

export async function createJob(db: Db, input: JobInput, timeZone: string, actor: Actor): Promise<JobRow> {
  const lead = await leadFor(db, input.lead_id);
  const property = await chosenProperty(db, lead.id, input.property_id);
  const [job] = await db('jobs')
    .insert({
      org_id: currentOrgId(db),
      ...formColumns(input, lead, property, timeZone),
      created_by: actor.type === 'user' ? actor.userId : null,
    })
    .returning<JobRow[]>('*');
  // i18n-exempt: an audit action id
  await recordAudit(db, { actor, action: 'job.created', subjectType: 'job', subjectId: job.id, data: { service_type: job.service_type } });
  return job;
}

export async function updateJob(db: Db, id: string, input: JobInput, timeZone: string, actor: Actor): Promise<JobRow> {
  const before = await getJob(db, id);
  if (before.status === 'completed' || before.status === 'cancelled') {
    throw conflict(msg('dashboard:job.errors.reopenFirst', { status: before.status }));
  }
  const lead = await leadFor(db, input.lead_id);
  if (before.proposal_id && lead.id !== before.lead_id) {
    throw fieldError('lead_id', 'dashboard:job.errors.customerFixed');
  }
  const property = await chosenProperty(db, lead.id, input.property_id);
  const [job] = await db('jobs')
    .where({ id: before.id })
    .update({
      ...formColumns(input, lead, property, timeZone),
      updated_at: db.fn.now(),
    })
    .returning<JobRow[]>('*');
  // i18n-exempt: an audit action id
  await recordAudit(db, { actor, action: 'job.updated', subjectType: 'job', subjectId: job.id, data: { scheduled_at: job.scheduled_at } });
  return job;
}

export async function setJobStatus(db: Db, id: string, status: JobStatus, actor: Actor): Promise<JobRow> {
  const before = await getJob(db, id, { forUpdate: true });
  if (before.status === status) return before;
  if (!JOB_TRANSITIONS[before.status].includes(status)) {
    throw conflict(msg('dashboard:job.errors.transition', { from: before.status, to: status }));
  }
  const [job] = await db('jobs')
    .where({ id: before.id })
    .update({ status, completed_at: status === 'completed' ? db.fn.now() : null, updated_at: db.fn.now() })
    .returning<JobRow[]>('*');
  await recordAudit(db, {
    actor,
    // i18n-exempt: an audit action id
    action: 'job.status_changed',
    subjectType: 'job',
    subjectId: job.id,
    data: { from: before.status, to: status },
  });
  return job;
}

/**
 * The job of an approved proposal. Unique per (org, proposal): a second call,
 * however concurrent, returns the existing job instead of a new one.
 */
export async function createJobForProposal(
  db: Db,
  proposal: { id: string; lead_id: string; title: string; property_id: string | null },
  actor: Actor,
): Promise<JobRow> {
  const lead = await getLead(db, proposal.lead_id);
  const property = await chosenProperty(db, lead.id, proposal.property_id);
  const inserted = await db('jobs')
    .insert({
      org_id: currentOrgId(db),
      lead_id: proposal.lead_id,
      proposal_id: proposal.id,
      property_id: proposal.property_id,
      service_type: proposal.title,
      address: property?.address ?? lead.address,
      created_by: actor.type === 'user' ? actor.userId : null,
    })
    .onConflict(['org_id', 'proposal_id'])
    .ignore()
    .returning<JobRow[]>('*');
  if (inserted.length) {
    await recordAudit(db, {
      actor,
      // i18n-exempt: an audit action id
      action: 'job.created',
      subjectType: 'job',
      subjectId: inserted[0].id,
      data: { proposal_id: proposal.id, service_type: proposal.title },
    });
    return inserted[0];
  }
  return db('jobs').where({ proposal_id: proposal.id }).first<JobRow>();
}
