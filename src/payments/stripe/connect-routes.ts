// Settings → Payments: connect the org's Stripe account and see whether it can
// take online payments. Connect actions are owner-only.
import { Router } from 'express';
import { recordAudit } from '../../db/audit.js';
import { listUnappliedPayments } from '../../db/sql/payments.js';
import { formFailure, orgPage, type PageContext, type PageResult } from '../../http/page.js';
import { parseForm } from '../../lib/forms.js';
import { setTipPercentages } from '../../orgs/commands.js';
import { tipSettingsForm } from '../tips.js';
import { config } from '../../config.js';
import { logger } from '../../logger.js';
import { getStripe, stripeConfigured } from '../../stripe/client.js';
import { reconcileAll } from './reconcile.js';
import { CONNECT_PATHS, connectStatus, createOnboardingLink, ensureConnectedAccount, refreshAccountStatus } from './connect.js';

export const connectAdminRouter = Router();

interface PaymentsOrg {
  stripe_account_id: string | null;
  stripe_charges_enabled: boolean;
  stripe_details_submitted: boolean;
  stripe_reconciled_at: Date | null;
  stripe_reconcile_error: string | null;
  tip_percentages: number[] | null;
}

const UNAPPLIED_SHOWN = 100;

const UNAPPLIED_REASONS: Record<string, string> = {
  void: 'The invoice was void when the payment arrived',
  draft: 'The invoice had not been issued (draft)',
  currency: 'Paid in another currency than the invoice',
  overpayment: 'More than the balance due (paid twice, or paid another way meanwhile)',
};

async function pageLocals(ctx: PageContext): Promise<Record<string, unknown>> {
  const org = await ctx
    .db('organizations')
    .where({ id: ctx.org.id })
    .first<PaymentsOrg>(
      'stripe_account_id',
      'stripe_charges_enabled',
      'stripe_details_submitted',
      'stripe_reconciled_at',
      'stripe_reconcile_error',
      'tip_percentages',
    );
  const status = connectStatus(org);
  const recent = await ctx
    .db('payments')
    .where({ source: 'stripe' })
    .orderBy('paid_at', 'desc')
    .limit(10)
    .select(
      'id',
      'invoice_id',
      'kind',
      'amount_cents',
      'currency',
      'status',
      'paid_at',
      'stripe_payment_intent_id',
      'stripe_checkout_session_id',
      'stripe_charge_id',
      'stripe_refund_id',
      'tip_cents',
      'proposal_id',
    );
  const unapplied = await listUnappliedPayments(ctx.db, UNAPPLIED_SHOWN);
  return {
    title: 'Payments',
    unapplied: unapplied.map((u) => ({ ...u, reasonLabel: UNAPPLIED_REASONS[u.reason] ?? u.reason })),
    status,
    statusLabel: { not_connected: 'Not connected', onboarding_incomplete: 'Onboarding incomplete', ready: 'Ready to accept payments' }[
      status
    ],
    isOwner: ctx.user.role === 'owner',
    accountId: org.stripe_account_id,
    detailsSubmitted: org.stripe_details_submitted,
    reconciledAt: org.stripe_reconciled_at,
    reconcileError: org.stripe_reconcile_error,
    planAllows: ctx.plan.onlinePayment,
    planName: ctx.plan.name,
    feePercent: ctx.plan.platformFeeBps / 100,
    stripeConfigured: stripeConfigured(),
    localTestCheckout: config.stripe.localTestCheckout === true,
    recent,
    tipPercentages: org.tip_percentages?.join(', ') ?? '',
  };
}

connectAdminRouter.get(
  CONNECT_PATHS.settings,
  orgPage(async (ctx) => ({ render: 'admin/settings/payments', locals: await pageLocals(ctx) })),
);

// Tips: the suggested percentages customers see when paying online, or none (tips off).
connectAdminRouter.post(
  '/settings/payments/tips',
  orgPage(
    async (ctx) => {
      try {
        const { tip_percentages: percentages } = parseForm(tipSettingsForm, ctx.req.body);
        await setTipPercentages(ctx.db, ctx.org.id, percentages, ctx.actor);
        return {
          redirect: CONNECT_PATHS.settings,
          flash: percentages ? `Customers can add a tip of ${percentages.join('%, ')}% or an amount they choose.` : 'Tips are off.',
        };
      } catch (err) {
        const locals = await pageLocals(ctx);
        const typed = (ctx.req.body as Record<string, unknown> | undefined)?.tip_percentages;
        return formFailure('admin/settings/payments', err, { ...locals, tipPercentages: typeof typed === 'string' ? typed : '' });
      }
    },
    { ownerOnly: true },
  ),
);

function notConfigured(): PageResult {
  return {
    redirect: CONNECT_PATHS.settings,
    flash: 'Online payments need Stripe keys on the server first: see "What to configure" below.',
    flashType: 'info',
  };
}

/** Stripe failures: back to the page with a plain message (the transaction still commits what was stored). */
function stripeTrouble(err: unknown, what: string): PageResult {
  logger.warn({ err: (err as Error).message }, `Stripe Connect: ${what} failed`);
  return {
    redirect: CONNECT_PATHS.settings,
    flash: `Stripe could not ${what} right now. Please try again in a moment.`,
    flashType: 'error',
  };
}

// "Connect Stripe": create the account once, then onboarding on Stripe.
connectAdminRouter.post(
  CONNECT_PATHS.connect,
  orgPage(
    async ({ db, org, actor }) => {
      if (!stripeConfigured()) return notConfigured();
      const stripe = getStripe();
      let accountId: string;
      try {
        ({ accountId } = await ensureConnectedAccount(db, org.id, stripe, actor));
      } catch (err) {
        return stripeTrouble(err, 'create your account');
      }
      try {
        const url = await createOnboardingLink(stripe, accountId);
        await recordAudit(db, {
          actor,
          action: 'stripe.onboarding_started',
          subjectType: 'organization',
          subjectId: org.id,
          data: { account: accountId },
        });
        return { redirect: url };
      } catch (err) {
        return stripeTrouble(err, 'start onboarding');
      }
    },
    { ownerOnly: true },
  ),
);

// Stripe sends the contractor here when a link expired or was used: a new link.
connectAdminRouter.get(
  CONNECT_PATHS.refresh,
  orgPage(
    async ({ db, org, actor }) => {
      if (!stripeConfigured()) return notConfigured();
      const account = org.stripe_account_id;
      if (!account) return { redirect: CONNECT_PATHS.settings, flash: 'Connect Stripe to start.', flashType: 'info' };
      try {
        const url = await createOnboardingLink(getStripe(), account);
        await recordAudit(db, {
          actor,
          action: 'stripe.onboarding_resumed',
          subjectType: 'organization',
          subjectId: org.id,
          data: { account },
        });
        return { redirect: url };
      } catch (err) {
        return stripeTrouble(err, 'continue onboarding');
      }
    },
    { ownerOnly: true },
  ),
);

// Back from onboarding: re-read the account (the return alone proves nothing).
connectAdminRouter.get(
  CONNECT_PATHS.return,
  orgPage(
    async ({ db, org, actor }) => {
      if (!stripeConfigured()) return notConfigured();
      if (!org.stripe_account_id) return { redirect: CONNECT_PATHS.settings };
      try {
        const status = await refreshAccountStatus(db, org.id, org.stripe_account_id, getStripe(), actor);
        return status === 'ready'
          ? { redirect: CONNECT_PATHS.settings, flash: 'Stripe is connected. Customers can now pay invoices online.' }
          : { redirect: CONNECT_PATHS.settings, flash: 'Stripe still needs some details before you can take payments.', flashType: 'info' };
      } catch (err) {
        return stripeTrouble(err, 'check your account');
      }
    },
    { ownerOnly: true },
  ),
);

// "Check Stripe now": one reconciliation pass for this org, the same one the
// schedule runs (a payment already recorded is not recorded again).
connectAdminRouter.post(
  CONNECT_PATHS.reconcile,
  orgPage(
    async ({ db, org, actor }) => {
      if (!stripeConfigured()) return notConfigured();
      if (!org.stripe_account_id) return { redirect: CONNECT_PATHS.settings, flash: 'Connect Stripe to start.', flashType: 'info' };
      const summary = await reconcileAll({ orgIds: [org.id] });
      const result = summary.results[0];
      await recordAudit(db, {
        actor,
        action: 'stripe.reconciled',
        subjectType: 'organization',
        subjectId: org.id,
        data: { payments: result?.payments ?? 0, refunds: result?.refunds ?? 0, failed: Boolean(result?.error) },
      });
      if (!result) return { redirect: CONNECT_PATHS.settings, flash: 'There is no connected Stripe account to check.', flashType: 'info' };
      if (result.error) return { redirect: CONNECT_PATHS.settings, flash: `The check failed. ${result.error}`, flashType: 'error' };
      const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
      return {
        redirect: CONNECT_PATHS.settings,
        flash:
          result.payments || result.refunds
            ? `Checked Stripe: ${plural(result.payments, 'missed payment')} and ${plural(result.refunds, 'missed refund')} recorded.`
            : 'Checked Stripe: every payment and refund was already recorded.',
      };
    },
    { ownerOnly: true },
  ),
);
