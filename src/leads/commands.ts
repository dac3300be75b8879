// Customers (leads): the only writer of `leads`.
import { recordAudit, type Actor } from '../db/audit.js';
import type { LeadRow, LeadStage, PropertyRow } from '../db/rows.js';
import { currentOrgId, type Db } from '../db/tenancy.js';
import { getLead, getProperty, leadName } from './queries.js';
import type { LeadInput, PropertyInput } from './schema.js';

export async function createLead(db: Db, input: LeadInput, actor: Actor): Promise<LeadRow> {
  const [lead] = await db('leads')
    .insert({ ...input, org_id: currentOrgId(db), created_by: actor.type === 'user' ? actor.userId : null })
    .returning<LeadRow[]>('*');
  // A new customer's address is their first (main) property.
  if (lead.address) await db('properties').insert({ org_id: lead.org_id, lead_id: lead.id, address: lead.address });
  // i18n-exempt: an audit action id
  await recordAudit(db, { actor, action: 'lead.created', subjectType: 'lead', subjectId: lead.id, data: { name: leadName(lead) } });
  return lead;
}

export async function updateLead(db: Db, id: string, input: LeadInput, actor: Actor): Promise<LeadRow> {
  const before = await getLead(db, id);
  const [lead] = await db('leads')
    .where({ id: before.id })
    .update({ ...input, updated_at: db.fn.now() })
    .returning<LeadRow[]>('*');
  // The customer's language is a column LeadRow doesn't name yet (migration 20261214000000).
  const was = before as LeadRow & { language?: string | null };
  const now = lead as LeadRow & { language?: string | null };
  const changed = (Object.keys(input) as (keyof LeadInput)[]).filter((k) => was[k] !== now[k]);
  // i18n-exempt: an audit action id
  await recordAudit(db, { actor, action: 'lead.updated', subjectType: 'lead', subjectId: lead.id, data: { changed } });
  return lead;
}

export async function setLeadStage(db: Db, id: string, stage: LeadStage, actor: Actor): Promise<LeadRow> {
  const before = await getLead(db, id);
  if (before.stage === stage) return before;
  const [lead] = await db('leads').where({ id: before.id }).update({ stage, updated_at: db.fn.now() }).returning<LeadRow[]>('*');
  await recordAudit(db, {
    actor,
    // i18n-exempt: an audit action id
    action: 'lead.stage_changed',
    subjectType: 'lead',
    subjectId: lead.id,
    data: { from: before.stage, to: stage },
  });
  return lead;
}

/**
 * Moves a customer along the pipeline when something happens elsewhere
 * (proposal sent, approved, rejected); never moves a won customer backwards.
 */
export async function advanceLeadStage(db: Db, id: string, stage: LeadStage, actor: Actor): Promise<void> {
  const lead = await getLead(db, id);
  const order: Record<LeadStage, number> = { new: 0, contacted: 1, proposal_sent: 2, lost: 3, won: 4 };
  if (order[stage] <= order[lead.stage] && !(lead.stage === 'lost' && stage === 'proposal_sent')) return;
  await setLeadStage(db, id, stage, actor);
}

/** Pauses or resumes automatic follow-ups to this customer (receipts and manual messages still go out). */
export async function setFollowupsPaused(db: Db, id: string, paused: boolean, actor: Actor): Promise<boolean> {
  const lead = await getLead(db, id);
  const query = db('leads').where({ id: lead.id });
  if (paused) void query.whereNull('followups_paused_at');
  else void query.whereNotNull('followups_paused_at');
  const changed = await query.update({ followups_paused_at: paused ? db.fn.now() : null, updated_at: db.fn.now() });
  if (changed) {
    await recordAudit(db, {
      actor,
      // i18n-exempt: an audit action id
      action: paused ? 'lead.followups_paused' : 'lead.followups_resumed',
      subjectType: 'lead',
      subjectId: lead.id,
    });
  }
  return changed > 0;
}

/** Adds a service address to a customer (the first one is their main property). */
export async function addProperty(db: Db, leadId: string, input: PropertyInput, actor: Actor): Promise<PropertyRow> {
  const lead = await getLead(db, leadId);
  const [property] = await db('properties')
    .insert({ ...input, org_id: currentOrgId(db), lead_id: lead.id })
    .returning<PropertyRow[]>('*');
  // i18n-exempt: an audit action id
  await recordAudit(db, { actor, action: 'property.added', subjectType: 'lead', subjectId: lead.id, data: { property_id: property.id } });
  return property;
}

export async function updateProperty(db: Db, leadId: string, id: string, input: PropertyInput, actor: Actor): Promise<PropertyRow> {
  const before = await getProperty(db, leadId, id);
  const [property] = await db('properties')
    .where({ id: before.id })
    .update({ ...input, updated_at: db.fn.now() })
    .returning<PropertyRow[]>('*');
  // i18n-exempt: an audit action id
  await recordAudit(db, { actor, action: 'property.updated', subjectType: 'lead', subjectId: leadId, data: { property_id: id } });
  return property;
}
