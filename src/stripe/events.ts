// stripe_events: each Stripe event is applied once (both webhook endpoints use this,
// the only writer of the table). The event row and its effects commit together, so a
// failure leaves neither and Stripe's retry applies it again.
import type Stripe from 'stripe';
import { withOrg, type Db } from '../db/tenancy.js';

/** Runs `apply` for an event the org hasn't processed yet, in one transaction; 'duplicate' otherwise. */
export async function applyStripeEventOnce(
  orgId: string,
  event: Stripe.Event,
  apply: (db: Db) => Promise<void>,
): Promise<'processed' | 'duplicate'> {
  return withOrg(orgId, async (db) => {
    const inserted = await db('stripe_events')
      .insert({ id: event.id, org_id: orgId, type: event.type, account: event.account ?? null, created: event.created })
      .onConflict('id')
      .ignore()
      .returning<{ id: string }[]>('id');
    if (inserted.length === 0) return 'duplicate';
    await apply(db);
    await db('stripe_events').where({ id: event.id }).update({ processed_at: db.fn.now() });
    return 'processed';
  });
}

/** Whether the org already processed this event (a cheap early exit for redeliveries; applyStripeEventOnce is what guarantees "once"). */
export async function stripeEventSeen(orgId: string, eventId: string): Promise<boolean> {
  return withOrg(orgId, async (db) => !!(await db('stripe_events').where({ id: eventId }).first<{ id: string } | undefined>('id')));
}
