// Settings → Payments: connect the org's Stripe account and see whether it can
// take online payments. Connect actions are owner-only.
import { Router } from 'express';
import { recordAudit } from '../../db/audit.js';
import { listUnappliedPayments } from '../../db/sql/payments.js';
import { formFailure, orgPage, type PageContext, type PageResult } from '../../http/page.js';
import { msg, t, translate, type Language } from '../../i18n/index.js';
import { parseForm } from '../../lib/forms.js';
import { setTipPercentages } from '../../orgs/commands.js';
import { planName } from '../../plans.js';
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

/** Why a payment wasn't applied, as messages (settings:payments.unappliedReason.<reason>). */
const UNAPPLIED_REASONS = new Set(['void', 'draft', 'currency', 'overpayment']);

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
  const lang = ctx.res.locals.lang as Language;
  return {
    title: t(lang, 'settings:payments.heading'),
    unapplied: unapplied.map((u) => ({
      ...u,
      reasonLabel: UNAPPLIED_REASONS.has(u.reason) ? `settings:payments.unappliedReason.${u.reason}` : u.reason,
    })),
    status,
    statusLabel: t(lang, `settings:payments.status.${status}`),
    isOwner: ctx.user.role === 'owner',
    accountId: org.stripe_account_id,
    detailsSubmitted: org.stripe_details_submitted,
    reconciledAt: org.stripe_reconciled_at,
    reconcileError: org.stripe_reconcile_error,
    planAllows: ctx.plan.onlinePayment,
    planName: planName(lang, ctx.plan.id),
    feePercent: ctx.plan.platformFeeBps / 100,
    stripeConfigured: stripeConfigured(),
    localTestCheckout: config.stripe.localTestCheckout === true,
    recent,
    tipPercentages: org.tip_percentages?.join(', ') ?? '',
    // The server settings the set-up note names (not words).
    secretKeySetting: 'STRIPE_SECRET_KEY',
    webhookSecretSetting: 'STRIPE_CONNECT_WEBHOOK_SECRET',
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
          flash: percentages
            ? msg('settings:payments.flash.tipsOn', { tips: `${percentages.join('%, ')}%` })
            : 'settings:payments.flash.tipsOff',
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
    flash: 'settings:payments.flash.notConfigured',
    flashType: 'info',
  };
}

/** What was being asked of Stripe when it failed: its words in the log, and the flash's message. */
const STRIPE_STEPS = {
  create: 'create your account', // i18n-exempt: the log's words; people read settings:payments.flash.trouble.*
  start: 'start onboarding', // i18n-exempt: the log's words
  continue: 'continue onboarding', // i18n-exempt: the log's words
  check: 'check your account', // i18n-exempt: the log's words
} as const;

/** Stripe failures: back to the page with a plain message (the transaction still commits what was stored). */
function stripeTrouble(err: unknown, step: keyof typeof STRIPE_STEPS): PageResult {
  logger.warn({ err: (err as Error).message }, `Stripe Connect: ${STRIPE_STEPS[step]} failed`);
  return {
    redirect: CONNECT_PATHS.settings,
    flash: `settings:payments.flash.trouble.${step}`,
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
        return stripeTrouble(err, 'create');
      }
      try {
        const url = await createOnboardingLink(stripe, accountId);
        await recordAudit(db, {
          actor,
          action: 'stripe.onboarding_started', // i18n-exempt: an audit action's name
          subjectType: 'organization',
          subjectId: org.id,
          data: { account: accountId },
        });
        return { redirect: url };
      } catch (err) {
        return stripeTrouble(err, 'start');
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
      if (!account) return { redirect: CONNECT_PATHS.settings, flash: 'settings:payments.flash.connectFirst', flashType: 'info' };
      try {
        const url = await createOnboardingLink(getStripe(), account);
        await recordAudit(db, {
          actor,
          action: 'stripe.onboarding_resumed', // i18n-exempt: an audit action's name
          subjectType: 'organization',
          subjectId: org.id,
          data: { account },
        });
        return { redirect: url };
      } catch (err) {
        return stripeTrouble(err, 'continue');
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
          ? { redirect: CONNECT_PATHS.settings, flash: 'settings:payments.flash.connected' }
          : { redirect: CONNECT_PATHS.settings, flash: 'settings:payments.flash.needsDetails', flashType: 'info' };
      } catch (err) {
        return stripeTrouble(err, 'check');
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
    async ({ db, org, actor, res }) => {
      if (!stripeConfigured()) return notConfigured();
      if (!org.stripe_account_id)
        return { redirect: CONNECT_PATHS.settings, flash: 'settings:payments.flash.connectFirst', flashType: 'info' };
      const summary = await reconcileAll({ orgIds: [org.id] });
      const result = summary.results[0];
      await recordAudit(db, {
        actor,
        action: 'stripe.reconciled', // i18n-exempt: an audit action's name
        subjectType: 'organization',
        subjectId: org.id,
        data: { payments: result?.payments ?? 0, refunds: result?.refunds ?? 0, failed: Boolean(result?.error) },
      });
      if (!result) return { redirect: CONNECT_PATHS.settings, flash: 'settings:payments.flash.nothingToCheck', flashType: 'info' };
      const lang = res.locals.lang as Language;
      if (result.error)
        return {
          redirect: CONNECT_PATHS.settings,
          flash: t(lang, 'settings:payments.flash.checkFailed', { error: translate(lang, result.error) }),
          flashType: 'error',
        };
      return {
        redirect: CONNECT_PATHS.settings,
        flash:
          result.payments || result.refunds
            ? t(lang, 'settings:payments.flash.checked', {
                payments: t(lang, 'settings:payments.flash.missedPayments', { count: result.payments }),
                refunds: t(lang, 'settings:payments.flash.missedRefunds', { count: result.refunds }),
              })
            : 'settings:payments.flash.allRecorded',
      };
    },
    { ownerOnly: true },
  ),
);
