// Typed wrappers for the SECURITY DEFINER functions that find an org before it is
// known (login email, portal token, Stripe account, one-time links, logo hash) and
// the narrow cross-org scans of the background jobs. Each runs as the app role with
// no org set, in the caller's transaction or a fresh one.
import { withoutOrg, type Db } from './tenancy.js';

function run<T>(db: Db | undefined, fn: (db: Db) => Promise<T>): Promise<T> {
  return db ? fn(db) : withoutOrg(fn);
}

async function rows<T>(db: Db | undefined, sql: string, bindings: unknown[]): Promise<T[]> {
  return run(db, async (trx) => (await trx.raw<{ rows: T[] }>(sql, bindings as never[])).rows);
}

export interface PortalLinkRef {
  link_id: string;
  org_id: string;
  lead_id: string;
}

/** The active (not revoked) portal link with this token hash. */
export async function portalLinkByTokenHash(tokenSha256: string, db?: Db): Promise<PortalLinkRef | null> {
  const [row] = await rows<PortalLinkRef>(db, 'select link_id, org_id, lead_id from portal_link_by_token_hash(?)', [tokenSha256]);
  return row ?? null;
}

export interface RecoveryMatch {
  org_id: string;
  lead_id: string;
  link_id: string;
  /** The link ran out: recovery mints a fresh one instead of resending it. */
  expired: boolean;
}

/**
 * Customers of every org with this exact email (lowercase) or E.164 phone number
 * and a link that is not revoked (live or expired): who "Send me my link again" reaches.
 */
export async function portalRecoveryMatches(address: { email: string | null; phone: string | null }, db?: Db): Promise<RecoveryMatch[]> {
  return rows<RecoveryMatch>(db, 'select org_id, lead_id, link_id, expired from portal_recovery_matches(?, ?)', [
    address.email,
    address.phone,
  ]);
}

export interface LoginRow {
  user_id: string;
  org_id: string;
  password_hash: string;
}

export async function authUserByEmail(email: string, db?: Db): Promise<LoginRow | null> {
  const [row] = await rows<LoginRow>(db, 'select user_id, org_id, password_hash from auth_user_by_email(?)', [email]);
  return row ?? null;
}

/** Whether any account, in any org, uses this email. */
export async function emailTaken(email: string, db?: Db): Promise<boolean> {
  const [row] = await rows<{ taken: boolean }>(db, 'select auth_email_taken(?) as taken', [email]);
  return row.taken;
}

export async function invitationByTokenHash(tokenSha256: string, db?: Db): Promise<{ invitation_id: string; org_id: string } | null> {
  const [row] = await rows<{ invitation_id: string; org_id: string }>(db, 'select invitation_id, org_id from invitation_by_token_hash(?)', [
    tokenSha256,
  ]);
  return row ?? null;
}

export async function passwordResetByTokenHash(tokenSha256: string, db?: Db): Promise<{ reset_id: string; org_id: string } | null> {
  const [row] = await rows<{ reset_id: string; org_id: string }>(db, 'select reset_id, org_id from password_reset_by_token_hash(?)', [
    tokenSha256,
  ]);
  return row ?? null;
}

/** A Stripe Checkout return code's row and org, used or not (the org's transaction decides). */
export async function checkoutReturnByCodeHash(codeSha256: string, db?: Db): Promise<{ return_id: string; org_id: string } | null> {
  const [row] = await rows<{ return_id: string; org_id: string }>(db, 'select return_id, org_id from checkout_return_by_code_hash(?)', [
    codeSha256,
  ]);
  return row ?? null;
}

export async function orgLogoBySha256(sha256: string, db?: Db): Promise<{ content_type: string; bytes: Buffer } | null> {
  const [row] = await rows<{ content_type: string; bytes: Buffer }>(db, 'select content_type, bytes from org_logo_by_sha256(?)', [sha256]);
  return row ?? null;
}

export async function orgByStripeAccount(account: string, db?: Db): Promise<string | null> {
  const [row] = await rows<{ org_id: string | null }>(db, 'select org_by_stripe_account(?) as org_id', [account]);
  return row?.org_id ?? null;
}

export async function orgByStripeCustomer(customer: string, db?: Db): Promise<string | null> {
  const [row] = await rows<{ org_id: string | null }>(db, 'select org_by_stripe_customer(?) as org_id', [customer]);
  return row?.org_id ?? null;
}

export interface ConnectedOrg {
  org_id: string;
  stripe_account_id: string;
  reconcile_cursor: string | number | null;
}

/** Every org with a connected Stripe account, for reconciliation. */
export async function stripeConnectedOrgs(db?: Db): Promise<ConnectedOrg[]> {
  return rows<ConnectedOrg>(db, 'select org_id, stripe_account_id, reconcile_cursor from stripe_connected_orgs()', []);
}

export interface DeliveryRef {
  deliveryId: string;
  orgId: string;
}

/** Deliveries in these (unsent) statuses untouched for longer than `olderThanSeconds`, oldest first. */
export async function unsentDeliveries(statuses: string[], olderThanSeconds: number, limit: number, db?: Db): Promise<DeliveryRef[]> {
  const found = await rows<{ delivery_id: string; org_id: string }>(
    db,
    'select delivery_id, org_id from message_deliveries_unsent(?::text[], make_interval(secs => ?), ?)',
    [statuses, olderThanSeconds, limit],
  );
  return found.map((r) => ({ deliveryId: r.delivery_id, orgId: r.org_id }));
}

export async function deliveryByProviderId(channel: string, providerId: string, db?: Db): Promise<DeliveryRef | null> {
  const [row] = await rows<{ delivery_id: string; org_id: string }>(
    db,
    'select delivery_id, org_id from message_delivery_by_provider_id(?, ?)',
    [channel, providerId],
  );
  return row ? { deliveryId: row.delivery_id, orgId: row.org_id } : null;
}

/** Deletes up to `limit` portal visits older than 90 days (the function can delete nothing younger). */
export async function prunePortalVisits(limit: number, db?: Db): Promise<number> {
  const [row] = await rows<{ deleted: number }>(db, 'select portal_visits_prune(?) as deleted', [limit]);
  return row.deleted;
}
