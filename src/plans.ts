// Free / Starter / Pro: the only place plan limits, features and fees live.
import { config } from './config.js';
import { DEFAULT_LANGUAGE, msg, t, translate, type Language } from './i18n/index.js';

export const PLAN_IDS = ['free', 'starter', 'pro'] as const;
export type PlanId = (typeof PLAN_IDS)[number];

export interface Plan {
  id: PlanId;
  name: string;
  /** Monthly price shown to contractors, in US cents. */
  monthlyPriceCents: number;
  /** Active (not revoked) portal links per org; null = unlimited. */
  maxActivePortalLinks: number | null;
  /** Customers may approve or reject proposals in the portal. */
  onlineApproval: boolean;
  /** Customers may pay invoices in the portal through the org's Stripe account. */
  onlinePayment: boolean;
  /** Platform fee on each online payment, in basis points of the amount (0 = none). */
  platformFeeBps: number;
  /** Minimum amount for a partial online payment, in minor units. */
  minimumOnlinePaymentCents: number;
  /** Customers may save a card and pay by autopay (issue 15 point 3: src/payments/stripe/saved-cards.ts, autopay.ts). */
  savedCardsAndAutopay: boolean;
  /** Automatic follow-ups of proposals and invoices (issue 15 point 5; src/messaging/followups.ts). */
  automaticFollowUps: boolean;
}

export const PLANS: Record<PlanId, Plan> = {
  free: {
    id: 'free',
    name: 'Free', // i18n-exempt: the plan's name in logs and Stripe; people read planName()
    monthlyPriceCents: 0,
    maxActivePortalLinks: 10,
    onlineApproval: false,
    onlinePayment: false,
    platformFeeBps: 0,
    minimumOnlinePaymentCents: 100,
    savedCardsAndAutopay: false,
    automaticFollowUps: false,
  },
  starter: {
    id: 'starter',
    name: 'Starter', // i18n-exempt: the plan's name in logs and Stripe; people read planName()
    monthlyPriceCents: 990,
    maxActivePortalLinks: null,
    onlineApproval: true,
    onlinePayment: true,
    platformFeeBps: 0,
    minimumOnlinePaymentCents: 100,
    savedCardsAndAutopay: false,
    automaticFollowUps: false,
  },
  pro: {
    id: 'pro',
    name: 'Pro', // i18n-exempt: the plan's name in logs and Stripe; people read planName()
    monthlyPriceCents: 4900,
    maxActivePortalLinks: null,
    onlineApproval: true,
    onlinePayment: true,
    platformFeeBps: 0,
    minimumOnlinePaymentCents: 100,
    savedCardsAndAutopay: true,
    automaticFollowUps: true,
  },
};

export function planFor(id: string): Plan {
  const plan = PLANS[id as PlanId];
  if (!plan) throw new Error(`unknown plan "${id}"`);
  return plan;
}

/** A plan's name in `lang` ("Free" / "Gratis"). */
export function planName(lang: Language, id: PlanId): string {
  return t(lang, `settings:plan.${id}`);
}

export interface PlanAddition {
  label: string;
  /** Promised for the plan but not built yet: shown as "coming soon", never as if it worked. */
  comingSoon: boolean;
}

/** What a plan adds over the one below it, in `lang`, read from the plan fields above (the plans page lists these). */
export function planAdditions(id: PlanId, lang: Language = DEFAULT_LANGUAGE): PlanAddition[] {
  const plan = PLANS[id];
  const index = PLAN_IDS.indexOf(id);
  const below = index > 0 ? PLANS[PLAN_IDS[index - 1]] : undefined;
  const added: PlanAddition[] = [];
  const now = (message: string) => added.push({ label: translate(lang, message), comingSoon: false });
  if (!below || below.maxActivePortalLinks !== plan.maxActivePortalLinks) {
    now(
      plan.maxActivePortalLinks === null
        ? 'settings:plan.adds.unlimitedLinks'
        : msg('settings:plan.adds.links', { count: plan.maxActivePortalLinks }),
    );
  }
  if (!below) {
    now('settings:plan.adds.portal');
    now('settings:plan.adds.pdfs');
  }
  if (plan.onlineApproval && !below?.onlineApproval) {
    now('settings:plan.adds.approve');
    now('settings:plan.adds.signatures');
  }
  if (plan.onlinePayment && !below?.onlinePayment) {
    now('settings:plan.adds.pay');
    now('settings:plan.adds.deposits');
  }
  if (plan.savedCardsAndAutopay && !below?.savedCardsAndAutopay) now('settings:plan.adds.autopay');
  if (plan.automaticFollowUps && !below?.automaticFollowUps) now('settings:plan.adds.followups');
  return added;
}

/**
 * Platform fee for an online payment of `amountCents` on this plan. Autopay's claim
 * works out the same in SQL from the bps it is given (claim_autopay_attempts(),
 * migrations/20270102000000_autopay_platform_fee.ts); test/payments/autopay.test.ts
 * checks the two agree.
 */
export function platformFeeCents(plan: Plan, amountCents: number): number {
  return Math.floor((amountCents * plan.platformFeeBps) / 10_000);
}

/** The Stripe price id that subscribes to a paid plan (from configuration). */
export function stripePriceFor(planId: PlanId): string | undefined {
  if (planId === 'starter') return config.stripe.priceStarter;
  if (planId === 'pro') return config.stripe.pricePro;
  return undefined;
}

/** The paid plan a Stripe price id stands for, if any. */
export function planForStripePrice(priceId: string): PlanId | undefined {
  if (priceId && priceId === config.stripe.priceStarter) return 'starter';
  if (priceId && priceId === config.stripe.pricePro) return 'pro';
  return undefined;
}
