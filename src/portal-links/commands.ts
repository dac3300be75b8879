// Portal links: the only writer of `portal_links` (the portal page's view counter
// aside, which the page's one SQL function bumps). Generate, revoke, regenerate,
// within the plan's limit on active links.
import { recordAudit, type Actor } from '../db/audit.js';
import { currentOrgId, type Db } from '../db/tenancy.js';
import { notFound } from '../lib/errors.js';
import { planFor, type Plan } from '../plans.js';
import {
  activePortalLink,
  countActiveLinks,
  expiryFor,
  live,
  PortalLinkLimitError,
  portalUrl,
  usageFrom,
  type LinkLifetime,
  type PortalLink,
} from './queries.js';
import { encryptPortalToken, hashPortalToken, newPortalToken } from './token.js';

/**
 * Locks the org row so link creation in this org is serialized: the count that
 * follows cannot be raced by another transaction (50 at once still give one slot).
 */
async function lockOrgForLinks(db: Db): Promise<{ plan: Plan; lifetime: LinkLifetime }> {
  const org = await db('organizations')
    .forUpdate()
    .first<{ plan: string; portal_link_lifetime_days: LinkLifetime } | undefined>('plan', 'portal_link_lifetime_days');
  if (!org) throw notFound();
  return { plan: planFor(org.plan), lifetime: org.portal_link_lifetime_days };
}

/**
 * Retires the customer's expired link (it still holds the one-link-per-customer
 * index): marked revoked by nobody, so the history shows it ran out, not who ended it.
 */
async function retireExpiredLink(db: Db, leadId: string): Promise<string | null> {
  const [row] = await db('portal_links')
    .where({ lead_id: leadId })
    .whereNull('revoked_at')
    .where('expires_at', '<=', new Date())
    .update({ revoked_at: db.fn.now(), revoked_by: null })
    .returning<{ id: string }[]>('id');
  return row?.id ?? null;
}

async function findLead(db: Db, leadId: string): Promise<void> {
  const lead = await db('leads').where({ id: leadId }).first<{ id: string } | undefined>('id');
  if (!lead) throw notFound();
}

function actorUserId(actor: Actor): string | null {
  return actor.type === 'user' ? actor.userId : null;
}

async function insertLink(db: Db, leadId: string, actor: Actor, lifetime: LinkLifetime): Promise<PortalLink> {
  const token = newPortalToken();
  const [row] = await db('portal_links')
    .insert({
      org_id: currentOrgId(db),
      lead_id: leadId,
      token_sha256: hashPortalToken(token),
      token_ciphertext: encryptPortalToken(token),
      created_by: actorUserId(actor),
      expires_at: expiryFor(lifetime),
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
  options: { lifetime?: LinkLifetime } = {},
): Promise<{ link: PortalLink; created: boolean }> {
  const { plan, lifetime } = await lockOrgForLinks(db);
  await findLead(db, leadId);
  const existing = await activePortalLink(db, leadId);
  if (existing) return { link: existing, created: false };
  const usage = usageFrom(plan, await countActiveLinks(db));
  if (usage.atLimit) throw new PortalLinkLimitError(usage);
  const expired = await retireExpiredLink(db, leadId);
  const link = await insertLink(db, leadId, actor, options.lifetime === undefined ? lifetime : options.lifetime);
  await recordAudit(db, {
    actor,
    action: 'portal_link.created', // i18n-exempt: an audit action's name
    subjectType: 'lead',
    subjectId: leadId,
    data: { linkId: link.id, ...(expired ? { expiredLinkId: expired } : {}) },
  });
  return { link, created: true };
}

/** Ends a link's access. Every CRM record of the customer stays as it is. */
export async function revokePortalLink(db: Db, linkId: string, actor: Actor): Promise<{ id: string; leadId: string }> {
  const [row] = await db('portal_links')
    .where({ id: linkId })
    .whereNull('revoked_at')
    .update({ revoked_at: db.fn.now(), revoked_by: actorUserId(actor) })
    .returning<{ id: string; lead_id: string }[]>(['id', 'lead_id']);
  if (!row) throw notFound('settings:portal.error.linkGone');
  await recordAudit(db, { actor, action: 'portal_link.revoked', subjectType: 'lead', subjectId: row.lead_id, data: { linkId: row.id } }); // i18n-exempt: an audit action's name
  return { id: row.id, leadId: row.lead_id };
}

/** Sets when the customer's active link expires: `lifetime` days from now, or never. */
export async function setPortalLinkExpiry(db: Db, leadId: string, lifetime: LinkLifetime, actor: Actor): Promise<Date | null> {
  const expiresAt = expiryFor(lifetime);
  const [row] = await db('portal_links')
    .where({ lead_id: leadId })
    .modify(live())
    .update({ expires_at: expiresAt })
    .returning<{ id: string }[]>('id');
  if (!row) throw notFound('settings:portal.error.noActiveLink');
  await recordAudit(db, {
    actor,
    action: 'portal_link.expiry_set', // i18n-exempt: an audit action's name
    subjectType: 'lead',
    subjectId: leadId,
    data: { linkId: row.id, expiresAt: expiresAt?.toISOString() ?? null },
  });
  return expiresAt;
}

/** Revokes the customer's active link; 404 when they have none. */
export async function revokeCustomerLink(db: Db, leadId: string, actor: Actor): Promise<void> {
  const link = await db('portal_links').where({ lead_id: leadId }).modify(live()).first<{ id: string } | undefined>('id');
  if (!link) throw notFound('settings:portal.error.noActiveLink');
  await revokePortalLink(db, link.id, actor);
}

/** Revokes the customer's active link (if any) and issues a new one, under the same lock. */
export async function regeneratePortalLink(db: Db, leadId: string, actor: Actor): Promise<PortalLink> {
  const { plan, lifetime } = await lockOrgForLinks(db);
  await findLead(db, leadId);
  const [old] = await db('portal_links')
    .where({ lead_id: leadId })
    .modify(live())
    .update({ revoked_at: db.fn.now(), revoked_by: actorUserId(actor) })
    .returning<{ id: string }[]>('id');
  const usage = usageFrom(plan, await countActiveLinks(db));
  // Replacing a live link keeps the count; a new one (or one replacing an expired link) must fit the limit.
  if (!old && usage.atLimit) throw new PortalLinkLimitError(usage);
  await retireExpiredLink(db, leadId);
  const link = await insertLink(db, leadId, actor, lifetime);
  await recordAudit(db, {
    actor,
    action: old ? 'portal_link.regenerated' : 'portal_link.created', // i18n-exempt: an audit action's name
    subjectType: 'lead',
    subjectId: leadId,
    data: { linkId: link.id, ...(old ? { revokedLinkId: old.id } : {}) },
  });
  return link;
}
