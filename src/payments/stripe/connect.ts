// Stripe Connect onboarding: each org gets one connected account (Accounts v1
// with controller properties: full Stripe Dashboard, the account pays Stripe's
// fees, Stripe carries losses) and finishes onboarding through Account Links.
import type Stripe from 'stripe';
import { config } from '../../config.js';
import { recordAudit, type Actor } from '../../db/audit.js';
import type { Db } from '../../db/tenancy.js';
import { lockStripeAccountFields, setStripeAccount } from '../../orgs/commands.js';

export type ConnectStatus = 'not_connected' | 'onboarding_incomplete' | 'ready';

export interface ConnectFields {
  stripe_account_id: string | null;
  stripe_charges_enabled: boolean;
  stripe_details_submitted: boolean;
}

export function connectStatus(org: ConnectFields): ConnectStatus {
  if (!org.stripe_account_id) return 'not_connected';
  return org.stripe_charges_enabled ? 'ready' : 'onboarding_incomplete';
}

export const CONNECT_PATHS = {
  settings: '/settings/payments',
  connect: '/settings/payments/connect',
  refresh: '/settings/payments/connect/refresh',
  return: '/settings/payments/connect/return',
  reconcile: '/settings/payments/reconcile',
} as const;

/** The idempotency key for an org's one account: a retried or doubled click gets the same account. */
const accountIdempotencyKey = (orgId: string) => `acct:${orgId}`;

/**
 * The org's connected account id, creating the account the first time. The org
 * row is locked so two clicks at once wait for each other; the idempotency key
 * covers a retry after a lost response.
 */
export async function ensureConnectedAccount(
  db: Db,
  orgId: string,
  stripe: Stripe,
  actor: Actor,
): Promise<{ accountId: string; created: boolean }> {
  const org = await lockStripeAccountFields(db, orgId);
  if (org?.stripe_account_id) return { accountId: org.stripe_account_id, created: false };
  // Parameters stay the same on every attempt: a reused key with other parameters is an error.
  const account = await stripe.accounts.create(
    {
      controller: {
        stripe_dashboard: { type: 'full' },
        fees: { payer: 'account' },
        losses: { payments: 'stripe' },
      },
      metadata: { org_id: orgId },
    },
    { idempotencyKey: accountIdempotencyKey(orgId) },
  );
  await setStripeAccount(db, orgId, {
    stripe_account_id: account.id,
    stripe_charges_enabled: account.charges_enabled ?? false,
    stripe_details_submitted: account.details_submitted ?? false,
  });
  await recordAudit(db, {
    actor,
    action: 'stripe.account_created', // i18n-exempt: Stripe's, SQL's and the audit log's names
    subjectType: 'organization',
    subjectId: orgId,
    data: { account: account.id },
  });
  return { accountId: account.id, created: true };
}

/** A fresh onboarding link (links are single-use and short-lived). */
export async function createOnboardingLink(stripe: Stripe, accountId: string): Promise<string> {
  const link = await stripe.accountLinks.create({
    account: accountId,
    type: 'account_onboarding',
    refresh_url: `${config.publicUrl}${CONNECT_PATHS.refresh}`,
    return_url: `${config.publicUrl}${CONNECT_PATHS.return}`,
  });
  return link.url;
}

/** Stores an account's charges/details flags; audits a change. Returns whether anything changed. */
export async function applyAccountStatus(
  db: Db,
  orgId: string,
  account: Pick<Stripe.Account, 'id' | 'charges_enabled' | 'details_submitted'>,
  actor: Actor,
): Promise<boolean> {
  const org = await lockStripeAccountFields(db, orgId);
  if (!org || org.stripe_account_id !== account.id) return false;
  const next = { stripe_charges_enabled: Boolean(account.charges_enabled), stripe_details_submitted: Boolean(account.details_submitted) };
  if (next.stripe_charges_enabled === org.stripe_charges_enabled && next.stripe_details_submitted === org.stripe_details_submitted)
    return false;
  await setStripeAccount(db, orgId, next);
  await recordAudit(db, {
    actor,
    action: 'stripe.account_updated', // i18n-exempt: Stripe's, SQL's and the audit log's names
    subjectType: 'organization',
    subjectId: orgId,
    data: { account: account.id, charges_enabled: next.stripe_charges_enabled, details_submitted: next.stripe_details_submitted },
  });
  return true;
}

/** Re-reads the account from Stripe (return from onboarding) and stores its status. */
export async function refreshAccountStatus(db: Db, orgId: string, accountId: string, stripe: Stripe, actor: Actor): Promise<ConnectStatus> {
  const account = await stripe.accounts.retrieve(accountId);
  await applyAccountStatus(db, orgId, account, actor);
  return connectStatus({
    stripe_account_id: accountId,
    stripe_charges_enabled: Boolean(account.charges_enabled),
    stripe_details_submitted: Boolean(account.details_submitted),
  });
}
