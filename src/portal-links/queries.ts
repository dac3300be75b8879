// Portal links: the customer's active link, the plan's limit on active links, and the lists.
import type { Knex } from 'knex';
import { config } from '../config.js';
import type { Db } from '../db/tenancy.js';
import { msg } from '../i18n/index.js';
import { HttpError } from '../lib/errors.js';
import { planFor, type Plan } from '../plans.js';
import { decryptPortalToken } from './token.js';

export interface PortalLink {
  id: string;
  url: string;
}

/** Lifetimes an org (default) or a link can have, in days; null = never expires. */
export type LinkLifetime = null | 30 | 90 | 365;

/**
 * A link opens the portal while it is neither revoked nor past its expires_at.
 * An expired link is inactive: it opens nothing and takes no slot of the plan's limit.
 */
export function live(alias = 'portal_links') {
  return (q: Knex.QueryBuilder): void => {
    q.whereNull(`${alias}.revoked_at`).andWhere((w) => {
      w.whereNull(`${alias}.expires_at`).orWhere(`${alias}.expires_at`, '>', new Date());
    });
  };
}

/** When a link made now with this lifetime expires (null = never). */
export function expiryFor(lifetime: LinkLifetime): Date | null {
  return lifetime === null ? null : new Date(Date.now() + lifetime * 86_400_000);
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
    super(409, 'portal_link_limit', portalLimitMessage(usage));
    this.name = 'PortalLinkLimitError';
  }
}

/** Why no new link can be made: a message (see src/i18n), told in the reader's language where it is shown. */
export function portalLimitMessage(usage: PortalLinkUsage): string {
  const limit = usage.limit ?? 0;
  const over = usage.active - limit;
  const values = { plan: usage.plan.id, limit, active: usage.active };
  return over > 0 ? msg('settings:portal.limit.over', { ...values, count: over + 1 }) : msg('settings:portal.limit.atLimit', values);
}

export function portalUrl(token: string): string {
  return `${config.publicUrl}/p/${token}`;
}

/** The customer's active link with its URL (for messages and the customer page), or null. */
export async function activePortalLink(db: Db, leadId: string): Promise<PortalLink | null> {
  const row = await db('portal_links')
    .where({ lead_id: leadId })
    .modify(live())
    .first<{ id: string; token_ciphertext: string } | undefined>('id', 'token_ciphertext');
  return row ? { id: row.id, url: portalUrl(decryptPortalToken(row.token_ciphertext)) } : null;
}

export async function countActiveLinks(db: Db): Promise<number> {
  const [{ count }] = await db('portal_links').modify(live()).count<{ count: string }[]>(); // count(*): Postgres names the column "count"
  return Number(count);
}

export function usageFrom(plan: Plan, active: number): PortalLinkUsage {
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
  return usageFrom(planFor(org.plan), await countActiveLinks(db));
}

export interface ActiveLinkListRow {
  id: string;
  lead_id: string;
  first_name: string;
  last_name: string;
  company: string | null;
  created_at: Date;
  created_by_name: string | null;
  expires_at: Date | null;
  last_viewed_at: Date | null;
  view_count: number;
}

/** A link's visits still in the log (portal_visits): how many, and the latest. */
interface LoggedVisits {
  logged_views: number;
  logged_last: Date | null;
}

/**
 * The subqueries that read a link's visits from the log, for a query over `portal_links as <alias>`. A view
 * writes only its visit, never the link's row (migrations/20261230000000_portal_views_from_visits.ts):
 * the link's own view_count and last_viewed_at hold the visits pruned from the log after 90 days.
 */
function loggedVisits(db: Db, alias: string) {
  const visits = () => db('portal_visits as v').where('v.link_id', db.ref(`${alias}.id`)); // i18n-exempt: SQL aliases
  // i18n-exempt: SQL aliases
  return [visits().count('*').as('logged_views'), visits().max('v.viewed_at').as('logged_last')];
}

/** A row's views and last view with the logged visits added, the subqueries' columns gone. */
function withLoggedVisits<T extends { view_count: number; last_viewed_at: Date | null } & LoggedVisits>(
  row: T,
): Omit<T, keyof LoggedVisits> {
  const { logged_views, logged_last, ...rest } = row;
  const last = [rest.last_viewed_at, logged_last].filter((d): d is Date => d !== null);
  return {
    ...rest,
    view_count: rest.view_count + Number(logged_views),
    last_viewed_at: last.length ? new Date(Math.max(...last.map((d) => d.getTime()))) : null,
  };
}

export const STALE_AFTER_DAYS = 90;
export const LINKS_PER_PAGE = 50;

/** Active links for Settings → Customer Portal, newest first; `stale` = not viewed in 90 days. */
export async function listActivePortalLinks(
  db: Db,
  options: { stale: boolean; page: number },
): Promise<{ rows: ActiveLinkListRow[]; total: number }> {
  const staleBefore = new Date(Date.now() - STALE_AFTER_DAYS * 86_400_000);
  const base = db('portal_links as l') // i18n-exempt: SQL aliases
    .join('leads as c', 'c.id', 'l.lead_id') // i18n-exempt: SQL aliases
    .modify(live('l'))
    .modify((q) => {
      if (options.stale) {
        // Not viewed since the cutoff (no visit in the log, none pruned from it after), or never viewed and made before it.
        q.whereNotExists(db('portal_visits as v').select(1).where('v.link_id', db.ref('l.id')).where('v.viewed_at', '>=', staleBefore)); // i18n-exempt: SQL aliases
        q.where((w) => {
          w.where('l.last_viewed_at', '<', staleBefore).orWhere((n) => {
            n.whereNull('l.last_viewed_at').andWhere('l.created_at', '<', staleBefore);
          });
        });
      }
    });
  const [{ count }] = await base.clone().count<{ count: string }[]>(); // count(*): Postgres names the column "count"
  const page = base
    .clone()
    .leftJoin('users as u', 'u.id', 'l.created_by') // i18n-exempt: SQL aliases
    .orderBy([
      { column: 'l.created_at', order: 'desc' },
      { column: 'l.id', order: 'desc' },
    ])
    .limit(LINKS_PER_PAGE)
    .offset((options.page - 1) * LINKS_PER_PAGE)
    .select(
      'l.id',
      'l.lead_id',
      'c.first_name',
      'c.last_name',
      'c.company',
      'l.created_at',
      'l.expires_at',
      'u.name as created_by_name', // i18n-exempt: SQL aliases
      'l.last_viewed_at',
      'l.view_count',
    )
    .select(loggedVisits(db, 'l')); // i18n-exempt: an SQL alias
  const rows = (await page) as (ActiveLinkListRow & LoggedVisits)[];
  return { rows: rows.map(withLoggedVisits), total: Number(count) };
}

/** The active link of a customer for the customer page's panel, with who made it and its views. */
export async function activeLinkDetails(db: Db, leadId: string) {
  const row = (await db('portal_links as l') // i18n-exempt: SQL aliases
    .leftJoin('users as u', 'u.id', 'l.created_by') // i18n-exempt: SQL aliases
    .where('l.lead_id', leadId)
    .modify(live('l'))
    .select('l.id', 'l.token_ciphertext', 'l.created_at', 'l.expires_at', 'l.last_viewed_at', 'l.view_count', 'u.name as created_by_name') // i18n-exempt: SQL aliases
    .select(loggedVisits(db, 'l')) // i18n-exempt: an SQL alias
    .first()) as
    | ({
        id: string;
        token_ciphertext: string;
        created_at: Date;
        expires_at: Date | null;
        last_viewed_at: Date | null;
        view_count: number;
        created_by_name: string | null;
      } & LoggedVisits)
    | undefined;
  if (!row) return null;
  const { token_ciphertext, ...rest } = withLoggedVisits(row);
  return { ...rest, url: portalUrl(decryptPortalToken(token_ciphertext)) };
}

export interface PortalVisitRow {
  viewed_at: Date;
  view: 'proposals' | 'invoices' | 'payments' | 'history' | 'proposal' | 'invoice';
  device: string | null;
  document_number: number | null;
}

/**
 * "Viewed invoice #4" + "on an iPhone": what the customer page says about one
 * visit, as two messages (settings:portal.visit.*) the panel prints in turn.
 */
function visitSentence(row: PortalVisitRow): { sentence: string; deviceNote: string | null } {
  const document = row.view === 'proposal' || row.view === 'invoice';
  const sentence = !document
    ? `settings:portal.visit.${row.view}`
    : row.document_number === null
      ? `settings:portal.visit.${row.view}`
      : msg(`settings:portal.visit.${row.view}Number`, { number: row.document_number });
  if (!row.device) return { sentence, deviceNote: null };
  // English says "an iPhone", "a Mac": the entry's context picks the article.
  const deviceNote = msg('settings:portal.visit.onDevice', {
    device: deviceWords(row.device),
    context: /^[aeiou]/i.test(row.device) ? 'an' : 'a',
  });
  return { sentence, deviceNote };
}

/** The stored device family (src/portal/visit.ts) as a message: "Android phone" reads "teléfono Android"; names of products stay as they are. */
function deviceWords(device: string): string {
  const kind = /^(.+) (phone|tablet)$/.exec(device);
  if (kind) return msg(`settings:portal.device.${kind[2]}Of`, { system: kind[1] });
  const fixed: Record<string, string> = {
    Phone: 'settings:portal.device.phone',
    Tablet: 'settings:portal.device.tablet',
    TV: 'settings:portal.device.tv',
    'Windows PC': 'settings:portal.device.windowsPc', // i18n-exempt: a stored device family
    'Linux computer': 'settings:portal.device.linuxComputer', // i18n-exempt: a stored device family
  };
  return fixed[device] ?? device;
}

const VISITS_SHOWN = 10;

/** The customer's latest portal visits (any of their links), newest first, with the document numbers. */
export async function recentVisits(db: Db, leadId: string, limit = VISITS_SHOWN) {
  const rows = await db('portal_visits as v') // i18n-exempt: SQL aliases
    // i18n-exempt: SQL aliases
    .leftJoin('proposals as p', function () {
      this.on('p.id', '=', 'v.document_id').andOnVal('v.view', '=', 'proposal');
    })
    // i18n-exempt: SQL aliases
    .leftJoin('invoices as i', function () {
      this.on('i.id', '=', 'v.document_id').andOnVal('v.view', '=', 'invoice');
    })
    .where('v.lead_id', leadId)
    .orderBy([
      { column: 'v.viewed_at', order: 'desc' },
      { column: 'v.id', order: 'desc' },
    ])
    .limit(limit)
    .select<(PortalVisitRow & { proposal_number: number | null; invoice_number: number | null })[]>(
      'v.viewed_at',
      'v.view',
      'v.device',
      'p.number as proposal_number', // i18n-exempt: SQL aliases
      'i.number as invoice_number', // i18n-exempt: SQL aliases
    );
  return rows.map(({ proposal_number, invoice_number, ...row }) => {
    const visit = { ...row, document_number: proposal_number ?? invoice_number };
    return { ...visit, ...visitSentence(visit) };
  });
}

/** When the customer's link ran out, if their only unrevoked link has expired (the panel says so). */
export async function expiredLinkDate(db: Db, leadId: string): Promise<Date | null> {
  const row = await db('portal_links')
    .where({ lead_id: leadId })
    .whereNull('revoked_at')
    .where('expires_at', '<=', new Date())
    .first<{ expires_at: Date } | undefined>('expires_at');
  return row?.expires_at ?? null;
}
