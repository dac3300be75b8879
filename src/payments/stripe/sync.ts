// Reading a connected account's payment state back from Stripe ("when in doubt,
// re-fetch"): events arrive late, twice or out of order, so handlers use
// Stripe's current objects rather than the event's snapshot.
import type Stripe from 'stripe';
import type { PaymentIntentFacts, RefundFacts } from './record.js';

export interface PaymentIntentState {
  paymentIntent: PaymentIntentFacts;
  checkoutSessionId: string | null;
}

/** A PaymentIntent on the connected account and the Checkout Session that made it (if any). */
export async function fetchPaymentIntentState(
  stripe: Stripe,
  stripeAccount: string,
  paymentIntentId: string,
  knownSessionId: string | null = null,
): Promise<PaymentIntentState> {
  const paymentIntent = await stripe.paymentIntents.retrieve(paymentIntentId, {}, { stripeAccount });
  let checkoutSessionId = knownSessionId;
  if (!checkoutSessionId) {
    const sessions = await stripe.checkout.sessions.list({ payment_intent: paymentIntentId, limit: 1 }, { stripeAccount });
    checkoutSessionId = sessions.data[0]?.id ?? null;
  }
  return { paymentIntent, checkoutSessionId };
}

/** Every refund of a PaymentIntent (auto-paginated). */
export async function fetchRefunds(stripe: Stripe, stripeAccount: string, paymentIntentId: string): Promise<RefundFacts[]> {
  const refunds: RefundFacts[] = [];
  for await (const refund of stripe.refunds.list({ payment_intent: paymentIntentId, limit: 100 }, { stripeAccount })) {
    refunds.push(refund);
  }
  return refunds;
}
