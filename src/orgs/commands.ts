// The organization record: the only writer of `organizations` and `org_logos`.
// Other features change their columns through these functions (payments the
// Stripe account, billing the plan, reconciliation its cursor).
import type { Actor } from '../db/audit.js';
import { recordAudit } from '../db/audit.js';
import type { OrgRow } from '../db/rows.js';
import type { Db } from '../db/tenancy.js';
import type { PlanId } from '../plans.js';
import type { NormalizedLogo } from './logo.js';
import type { BrandingInput } from './schema.js';

/** Inserts the org row of a new organization (auth's sign-up makes its owner in the same transaction). */
export async function insertOrganization(db: Db, org: { id: string; name: string; plan: PlanId; timeZone?: string }): Promise<void> {
  await db('organizations').insert({ id: org.id, name: org.name, plan: org.plan, ...(org.timeZone ? { time_zone: org.timeZone } : {}) });
}

const BRANDING_FIELDS = ['name', 'brand_color', 'phone', 'whatsapp_number', 'email', 'address', 'time_zone', 'currency', 'locale'] as const;

/** Saves branding and business details; the audit event lists what changed. */
export async function updateBranding(db: Db, org: OrgRow, input: BrandingInput, actor: Actor): Promise<string[]> {
  const changed = BRANDING_FIELDS.filter((field) => (org[field] ?? null) !== (input[field] ?? null));
  if (changed.length === 0) return changed;
  await db('organizations')
    .where({ id: org.id })
    .update({ ...Object.fromEntries(changed.map((f) => [f, input[f]])), updated_at: db.fn.now() });
  await recordAudit(db, { actor, action: 'org.branding_updated', subjectType: 'organization', subjectId: org.id, data: { changed } }); // i18n-exempt: an audit action's name
  return changed;
}

/** Stores the logo (once per org and content) and makes it the org's logo. Returns the logo id. */
export async function saveOrgLogo(db: Db, orgId: string, logo: NormalizedLogo, actor: Actor, originalBytes: number): Promise<string> {
  const [row] = await db('org_logos')
    .insert({
      org_id: orgId,
      sha256: logo.sha256,
      content_type: logo.contentType,
      width: logo.width,
      height: logo.height,
      bytes: logo.bytes,
    })
    .onConflict(['org_id', 'sha256'])
    .merge(['created_at'])
    .returning<{ id: string }[]>('id');
  await db('organizations').where({ id: orgId }).update({ logo_id: row.id, updated_at: db.fn.now() });
  await recordAudit(db, {
    actor,
    action: 'org.logo_uploaded', // i18n-exempt: an audit action's name
    subjectType: 'org_logo',
    subjectId: row.id,
    data: { sha256: logo.sha256, width: logo.width, height: logo.height, original_bytes: originalBytes },
  });
  return row.id;
}

/** The business name shows instead of a logo again. Returns false when there was none. */
export async function removeOrgLogo(db: Db, org: Pick<OrgRow, 'id' | 'logo_id'>, actor: Actor): Promise<boolean> {
  if (!org.logo_id) return false;
  await db('organizations').where({ id: org.id }).update({ logo_id: null, updated_at: db.fn.now() });
  await recordAudit(db, { actor, action: 'org.logo_removed', subjectType: 'org_logo', subjectId: org.logo_id }); // i18n-exempt: an audit action's name
  return true;
}

export type StripeAccountFields = Pick<OrgRow, 'stripe_account_id' | 'stripe_charges_enabled' | 'stripe_details_submitted'>;

/** Locks the org row and returns its Stripe account fields (Connect serializes on it). */
export async function lockStripeAccountFields(db: Db, orgId: string): Promise<StripeAccountFields | undefined> {
  return db('organizations')
    .where({ id: orgId })
    .forUpdate()
    .first<StripeAccountFields | undefined>('stripe_account_id', 'stripe_charges_enabled', 'stripe_details_submitted');
}

/** Stores the org's connected account, or a change of what it can do. */
export async function setStripeAccount(db: Db, orgId: string, fields: Partial<StripeAccountFields>): Promise<void> {
  await db('organizations')
    .where({ id: orgId })
    .update({ ...fields, ...('stripe_account_id' in fields ? { stripe_reconcile_error: null } : {}), updated_at: db.fn.now() });
}

/** The outcome of a reconciliation run for this org: the next cursor and no error, or the error to show. */
export async function setReconcileOutcome(db: Db, orgId: string, outcome: { cursor: number } | { error: string }): Promise<void> {
  await db('organizations')
    .where({ id: orgId })
    .update(
      'error' in outcome
        ? { stripe_reconcile_error: outcome.error.slice(0, 1000) }
        : { stripe_reconcile_cursor: outcome.cursor, stripe_reconciled_at: db.fn.now(), stripe_reconcile_error: null },
    );
}

export type SubscriptionFields = Pick<OrgRow, 'plan' | 'subscription_status' | 'stripe_subscription_id' | 'stripe_customer_id'>;

/** Locks the org row before its plan changes (subscription events arrive in parallel). */
export async function lockOrg(db: Db, orgId: string): Promise<OrgRow> {
  return db('organizations').where({ id: orgId }).forUpdate().first<OrgRow>();
}

export async function setSubscription(db: Db, orgId: string, fields: Partial<SubscriptionFields>): Promise<void> {
  await db('organizations')
    .where({ id: orgId })
    .update({ ...fields, updated_at: db.fn.now() });
}

/** How long new portal links live, in days (30, 90 or 365), or null for links that never expire. */
export async function setPortalLinkLifetime(db: Db, orgId: string, days: number | null, actor: Actor): Promise<void> {
  await db('organizations').where({ id: orgId }).update({ portal_link_lifetime_days: days, updated_at: db.fn.now() });
  await recordAudit(db, { actor, action: 'org.portal_link_lifetime_set', subjectType: 'organization', subjectId: orgId, data: { days } }); // i18n-exempt: an audit action's name
}

/** Tips on online payments: the suggested percentages, or null (tips off). */
export async function setTipPercentages(db: Db, orgId: string, percentages: number[] | null, actor: Actor): Promise<void> {
  await db('organizations').where({ id: orgId }).update({ tip_percentages: percentages, updated_at: db.fn.now() });
  await recordAudit(db, {
    actor,
    action: 'org.tips_updated', // i18n-exempt: an audit action's name
    subjectType: 'organization',
    subjectId: orgId,
    data: { tip_percentages: percentages },
  });
}
