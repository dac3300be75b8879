// Portal links: generate, revoke, regenerate, and the plan's limit on active links.
// Only this file writes portal_links (the page view counter aside, see page-data.ts).
import type { Actor } from '../audit.js';
import { recordAudit } from '../audit.js';
import { config } from '../config.js';
import type { Db } from '../db/tenancy.js';
import { HttpError, notFound } from '../http/errors.js';
import { planFor, type Plan } from '../plans.js';
import { decryptPortalToken, encryptPortalToken, hashPortalToken, newPortalToken } from './token.js';

export interface PortalLink {
  id: string;
  url: string;
}

export interface PortalLinkUsage {
  plan: Plan;
  active: number;
  /** null = unlimited */
  limit: number | null;
  remaining: number | null;
  /** More active links than the plan allows (after a downgrade): existing links keep working. */
  overLimit: boolean;
  atLimit: boolean;
}

/** Refusal of a new link because the plan's active-link limit is reached. */
export class PortalLinkLimitError extends HttpError {
  constructor(public readonly usage: PortalLinkUsage) {
    super(409, 'portal_link_limit', portalLimitMessage(usage), false);
    this.name = 'PortalLinkLimitError';
  }
}

export function portalLimitMessage(usage: PortalLinkUsage): string {
  const limit = usage.limit ?? 0;
  const over = usage.active - limit;
  const free =
    over > 0
      ? `revoke at least ${over + 1} links you no longer need`
      : 'revoke a link you no longer need';
  return (
    `The ${usage.plan.name} plan allows ${limit} active portal links and ${usage.active} are in use. ` +
    `To give this customer a link, ${free} under Settings → Customer Portal (the customer's records stay), ` +
    'or upgrade to Starter for unlimited links.'
  );
}

export function portalUrl(token: string): string {
  return `${config.publicUrl}/p/${token}`;
}

interface LinkRow {
  id: string;
  token_ciphertext: string;
}

/** The customer's active link with its URL (for messages and the customer page), or null. */
export async function activePortalLink(db: Db, leadId: string): Promise<PortalLink | null> {
  const row = await db('portal_links')
    .where({ lead_id: leadId })
    .whereNull('revoked_at')
    .first<LinkRow | undefined>('id', 'token_ciphertext');
  return row ? { id: row.id, url: portalUrl(decryptPortalToken(row.token_ciphertext)) } : null;
}

async function countActive(db: Db): Promise<number> {
  const [{ count }] = await db('portal_links').whereNull('revoked_at').count<{ count: string }[]>('* as count');
  return Number(count);
}

function usageFrom(plan: Plan, active: number): PortalLinkUsage {
  const limit = plan.maxActivePortalLinks;
  return {
    plan,
    active,
    limit,
    remaining: limit === null ? null : Math.max(0, limit - active),
    overLimit: limit !== null && active > limit,
    atLimit: limit !== null && active >= limit,
  };
}

/** Active links against the org's plan limit (a read, no lock). */
export async function portalLinkUsage(db: Db): Promise<PortalLinkUsage> {
  const org = await db('organizations').first<{ plan: string }>('plan');
  return usageFrom(planFor(org.plan), await countActive(db));
}

/**
 * Locks the org row so link creation in this org is serialized: the count that
 * follows cannot be raced by another transaction (50 at once still give one slot).
 */
async function lockOrgForLinks(db: Db): Promise<Plan> {
  const org = await db('organizations').forUpdate().first<{ plan: string } | undefined>('plan');
  if (!org) throw notFound();
  return planFor(org.plan);
}

async function findLead(db: Db, leadId: string): Promise<{ id: string; first_name: string; last_name: string }> {
  const lead = await db('leads').where({ id: leadId }).first<{ id: string; first_name: string; last_name: string } | undefined>('id', 'first_name', 'last_name');
  if (!lead) throw notFound();
  return lead;
}

function actorUserId(actor: Actor): string | null {
  return actor.type === 'user' ? actor.userId : null;
}

async function insertLink(db: Db, leadId: string, actor: Actor): Promise<PortalLink> {
  const token = newPortalToken();
  const [row] = await db('portal_links')
    .insert({
      org_id: db.raw("nullif(current_setting('app.org_id', true), '')::uuid"),
      lead_id: leadId,
      token_sha256: hashPortalToken(token),
      token_ciphertext: encryptPortalToken(token),
      created_by: actorUserId(actor),
    })
    .returning<{ id: string }[]>('id');
  return { id: row.id, url: portalUrl(token) };
}

/**
 * Gives the customer a portal link, or returns the one they already have.
 * Refused with PortalLinkLimitError when the plan's active-link limit is reached.
 */
export async function generatePortalLink(
  db: Db,
  leadId: string,
  actor: Actor,
): Promise<{ link: PortalLink; created: boolean }> {
  const plan = await lockOrgForLinks(db);
  await findLead(db, leadId);
  const existing = await activePortalLink(db, leadId);
  if (existing) return { link: existing, created: false };
  const usage = usageFrom(plan, await countActive(db));
  if (usage.atLimit) throw new PortalLinkLimitError(usage);
  const link = await insertLink(db, leadId, actor);
  await recordAudit(db, { actor, action: 'portal_link.created', subjectType: 'lead', subjectId: leadId, data: { linkId: link.id } });
  return { link, created: true };
}

/** Ends a link's access. Every CRM record of the customer stays as it is. */
export async function revokePortalLink(db: Db, linkId: string, actor: Actor): Promise<{ id: string; leadId: string }> {
  const [row] = await db('portal_links')
    .where({ id: linkId })
    .whereNull('revoked_at')
    .update({ revoked_at: db.fn.now(), revoked_by: actorUserId(actor) })
    .returning<{ id: string; lead_id: string }[]>(['id', 'lead_id']);
  if (!row) throw notFound('This link does not exist or was already revoked.');
  await recordAudit(db, { actor, action: 'portal_link.revoked', subjectType: 'lead', subjectId: row.lead_id, data: { linkId: row.id } });
  return { id: row.id, leadId: row.lead_id };
}

/** Revokes the customer's active link (if any) and issues a new one, under the same lock. */
export async function regeneratePortalLink(db: Db, leadId: string, actor: Actor): Promise<PortalLink> {
  const plan = await lockOrgForLinks(db);
  await findLead(db, leadId);
  const [old] = await db('portal_links')
    .where({ lead_id: leadId })
    .whereNull('revoked_at')
    .update({ revoked_at: db.fn.now(), revoked_by: actorUserId(actor) })
    .returning<{ id: string }[]>('id');
  const usage = usageFrom(plan, await countActive(db));
  // Replacing a link keeps the count; a new one must fit the limit.
  if (!old && usage.atLimit) throw new PortalLinkLimitError(usage);
  const link = await insertLink(db, leadId, actor);
  await recordAudit(db, {
    actor,
    action: old ? 'portal_link.regenerated' : 'portal_link.created',
    subjectType: 'lead',
    subjectId: leadId,
    data: { linkId: link.id, ...(old ? { revokedLinkId: old.id } : {}) },
  });
  return link;
}

export interface ActiveLinkListRow {
  id: string;
  lead_id: string;
  first_name: string;
  last_name: string;
  company: string | null;
  created_at: Date;
  created_by_name: string | null;
  last_viewed_at: Date | null;
  view_count: number;
}

export const STALE_AFTER_DAYS = 90;
export const LINKS_PER_PAGE = 50;

/** Active links for Settings → Customer Portal, newest first; `stale` = not viewed in 90 days. */
export async function listActivePortalLinks(
  db: Db,
  options: { stale: boolean; page: number },
): Promise<{ rows: ActiveLinkListRow[]; total: number }> {
  const base = db('portal_links as l')
    .join('leads as c', 'c.id', 'l.lead_id')
    .whereNull('l.revoked_at')
    .modify((q) => {
      if (options.stale) {
        q.whereRaw(`coalesce(l.last_viewed_at, l.created_at) < now() - make_interval(days => ?)`, [STALE_AFTER_DAYS]);
      }
    });
  const [{ count }] = await base.clone().count<{ count: string }[]>('* as count');
  const rows = await base
    .clone()
    .leftJoin('users as u', 'u.id', 'l.created_by')
    .orderBy([{ column: 'l.created_at', order: 'desc' }, { column: 'l.id', order: 'desc' }])
    .limit(LINKS_PER_PAGE)
    .offset((options.page - 1) * LINKS_PER_PAGE)
    .select<ActiveLinkListRow[]>(
      'l.id',
      'l.lead_id',
      'c.first_name',
      'c.last_name',
      'c.company',
      'l.created_at',
      'u.name as created_by_name',
      'l.last_viewed_at',
      'l.view_count',
    );
  return { rows, total: Number(count) };
}
