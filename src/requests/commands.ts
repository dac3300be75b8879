// Requests for work: the only writer of `work_requests` and `work_request_photos`.
// A customer's request from the portal is stored with its photos and an email to
// the business (the outbox) in one transaction; the business turns it into a
// draft proposal or a job to schedule in one click (the same transaction links them).
import { config } from '../config.js';
import { recordAudit, type Actor } from '../db/audit.js';
import { currentOrgId, type Db } from '../db/tenancy.js';
import { conflict } from '../lib/errors.js';
import type { NormalizedImage } from '../lib/images.js';
import { createJob } from '../jobs/commands.js';
import { jobFormSchema } from '../jobs/schema.js';
import { leadName } from '../leads/queries.js';
import { workRequestNotice } from '../messaging/business-notices.js';
import { storeBusinessNotice } from '../messaging/commands.js';
import { businessNoticeAddress } from '../messaging/queries.js';
import { createProposal } from '../proposals/commands.js';
import { proposalFormSchema } from '../proposals/schema.js';
import { getWorkRequest, type WorkRequestRow } from './queries.js';
import { formatLocale, languageOf, msg, t, translate } from '../i18n/index.js';
import { formatDate } from '../lib/dates.js';

export interface NewWorkRequest {
  leadId: string;
  portalLinkId: string;
  /** The upcoming visit the customer asks to move ("ask to reschedule"). */
  jobId?: string | null;
  description: string;
  /** The customer's property it is for (checked to be theirs by the caller), or null. */
  propertyId?: string | null;
  address: string | null;
  preferredTimes: string;
  photos: NormalizedImage<'image/jpeg'>[];
}

/**
 * A short title for what the customer asked: the first line, at most 80 characters
 * (a reschedule: a message, see src/i18n).
 */
export function workRequestTitle(request: Pick<WorkRequestRow, 'description' | 'kind'>): string {
  if (request.kind === 'reschedule') return 'dashboard:request.rescheduleTitle';
  const line = request.description.split('\n')[0].trim();
  // The first sentence names the work ("The AC upstairs blows warm air."), without its full stop;
  // a "sentence" of a word or two is an abbreviation ("Dr. Patel sent us"), and the line stands.
  const first = /^(.+?[.!?])(\s|$)/.exec(line)?.[1];
  const sentence = (first && first.split(/\s+/).length >= 3 ? first : line).replace(/\.$/, '');
  // Nothing to name it by ("."): the kind of request, a message the page words.
  if (!/[\p{L}\p{N}]/u.test(sentence)) return 'dashboard:request.workTitle';
  if (sentence.length <= TITLE_LENGTH) return sentence;
  // Too long: cut at a word, not inside one.
  const cut = sentence.slice(0, TITLE_LENGTH - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > TITLE_LENGTH / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

const TITLE_LENGTH = 80;

export async function createWorkRequest(
  db: Db,
  input: NewWorkRequest,
  actor: Actor,
): Promise<{ request: WorkRequestRow; deliveryId: string | null }> {
  const orgId = currentOrgId(db);
  const [request] = await db('work_requests')
    .insert({
      org_id: orgId,
      lead_id: input.leadId,
      portal_link_id: input.portalLinkId,
      job_id: input.jobId ?? null,
      kind: input.jobId ? 'reschedule' : 'work',
      description: input.description,
      property_id: input.propertyId ?? null,
      address: input.address,
      preferred_times: input.preferredTimes,
    })
    .returning<WorkRequestRow[]>('*');
  if (input.photos.length) {
    await db('work_request_photos').insert(
      input.photos.map((photo, position) => ({
        org_id: orgId,
        request_id: request.id,
        position,
        content_type: photo.contentType,
        width: photo.width,
        height: photo.height,
        sha256: photo.sha256,
        bytes: photo.bytes,
      })),
    );
  }
  await recordAudit(db, {
    actor,
    // i18n-exempt: an audit action id
    action: 'work_request.created',
    subjectType: 'work_request',
    subjectId: request.id,
    data: {
      kind: request.kind,
      lead_id: request.lead_id,
      photos: input.photos.length,
      ...(request.job_id ? { job_id: request.job_id } : {}),
    },
  });
  const deliveryId = await noticeToBusiness(db, request, input.photos.length, actor);
  return { request, deliveryId };
}

/** The email telling the business, through the outbox (sent after commit). Null when it has no address. */
async function noticeToBusiness(db: Db, request: WorkRequestRow, photos: number, actor: Actor): Promise<string | null> {
  const to = await businessNoticeAddress(db);
  if (!to) return null;
  const lead = await db('leads').where({ id: request.lead_id }).first<{ first_name: string; last_name: string }>('first_name', 'last_name');
  const customer = leadName(lead);
  const job = request.job_id ? await db('jobs').where({ id: request.job_id }).first<{ service_type: string }>('service_type') : null;
  // In the business's language, from the catalogue (src/messaging/business-notices.ts).
  const { subject, text, html } = await workRequestNotice(db, {
    customer,
    serviceType: job?.service_type ?? null,
    description: request.description,
    address: request.address,
    preferredTimes: request.preferred_times,
    photos,
    url: `${config.publicUrl}/requests/${request.id}`,
  });
  const delivery = await storeBusinessNotice(db, { leadId: request.lead_id, to, subject, text, html, workRequestId: request.id }, actor);
  return delivery.id;
}

async function openRequest(db: Db, id: string): Promise<WorkRequestRow> {
  const request = await getWorkRequest(db, id, { forUpdate: true });
  if (request.status !== 'new') throw conflict(msg('dashboard:request.errors.already', { status: request.status }));
  return request;
}

/**
 * One click: a draft proposal (titled from the request, one line to price) or a
 * job to schedule (no date yet) for the same customer, linked to the request,
 * which becomes "converted". The caller's transaction holds it all.
 */
export async function convertWorkRequest(
  db: Db,
  id: string,
  to: 'proposal' | 'job',
  org: { currency: string; time_zone: string; locale?: string },
  actor: Actor,
): Promise<{ proposalId?: string; jobId?: string }> {
  // What is written into the new record reads in the business's language.
  const lang = languageOf(org.locale);
  const request = await openRequest(db, id);
  if (request.kind === 'reschedule') throw conflict('dashboard:request.errors.reschedule');
  const title = translate(lang, workRequestTitle(request));
  const notes = [
    t(lang, 'dashboard:request.notes.from', { date: formatDate(request.created_at, org.time_zone, formatLocale(lang, org.locale)) }),
    request.description,
    request.preferred_times ? t(lang, 'dashboard:request.notice.whenSuits', { times: request.preferred_times }) : '',
  ]
    .filter(Boolean)
    .join('\n');
  let link: { proposal_id?: string; converted_job_id?: string };
  if (to === 'proposal') {
    const input = proposalFormSchema(org.currency).parse({
      lead_id: request.lead_id,
      title,
      tax_rate: '0',
      internal_notes: notes,
      property_id: request.property_id ?? '',
      items: [{ service: title, description: '', quantity: '1', unit_price: '0' }],
    });
    const proposal = await createProposal(db, input, actor);
    link = { proposal_id: proposal.id };
  } else {
    const input = jobFormSchema.parse({
      lead_id: request.lead_id,
      service_type: title,
      address: request.address ?? '',
      property_id: request.property_id ?? '',
      internal_notes: notes,
    });
    const job = await createJob(db, input, org.time_zone, actor);
    link = { converted_job_id: job.id };
  }
  await db('work_requests')
    .where({ id: request.id })
    .update({ ...link, status: 'converted', converted_at: db.fn.now(), updated_at: db.fn.now() });
  await recordAudit(db, {
    actor,
    // i18n-exempt: an audit action id
    action: 'work_request.converted',
    subjectType: 'work_request',
    subjectId: request.id,
    data: { to, ...link },
  });
  return { proposalId: link.proposal_id, jobId: link.converted_job_id };
}

/** Done with it without a proposal or a job (a reschedule handled, a duplicate, a no). */
export async function closeWorkRequest(db: Db, id: string, actor: Actor): Promise<void> {
  const request = await openRequest(db, id);
  await db('work_requests').where({ id: request.id }).update({ status: 'closed', closed_at: db.fn.now(), updated_at: db.fn.now() });
  // i18n-exempt: an audit action id
  await recordAudit(db, { actor, action: 'work_request.closed', subjectType: 'work_request', subjectId: request.id });
}
