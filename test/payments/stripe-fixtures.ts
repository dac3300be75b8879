// Shared setup for the Stripe Connect tests: the stand-in wired into config,
// connected orgs with an open invoice, and signed webhook deliveries.
import type { Knex } from 'knex';
import Stripe from 'stripe';
import supertest from 'supertest';
import { config } from '../../src/config.js';
import { withOrg } from '../../src/db/tenancy.js';
import { getStripe, resetStripe } from '../../src/stripe/client.js';
import { createInvoiceCheckout } from '../../src/payments/stripe/checkout.js';
import { generatePortalLink } from '../../src/portal-links/commands.js';
import { createTestLead, createTestOrg, type TestOrg } from '../support/factories.js';
import { testApp } from '../support/http.js';
import { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import type { PlanId } from '../../src/plans.js';

const WEBHOOK_SECRET = 'whsec_test_connect_secret_0123456789';

const saved = { ...config.stripe };

export async function startStandIn(): Promise<StripeConnectStandIn> {
  const standIn = new StripeConnectStandIn();
  const url = await standIn.start();
  Object.assign(config.stripe, { secretKey: 'sk_test_porchlight', apiUrl: url, connectWebhookSecret: WEBHOOK_SECRET });
  resetStripe();
  return standIn;
}

export async function stopStandIn(standIn: StripeConnectStandIn): Promise<void> {
  await standIn.stop();
  Object.assign(config.stripe, saved);
  resetStripe();
}

export interface ConnectedOrg extends TestOrg {
  accountId: string;
  leadId: string;
}

/** An org whose Stripe account exists at the stand-in (and can take charges unless told otherwise). */
export async function connectedOrg(
  standIn: StripeConnectStandIn,
  options: { plan?: PlanId; chargesEnabled?: boolean } = {},
): Promise<ConnectedOrg> {
  const org = await createTestOrg({ plan: options.plan ?? 'starter' });
  const chargesEnabled = options.chargesEnabled ?? true;
  const account = standIn.addAccount({ charges_enabled: chargesEnabled, details_submitted: chargesEnabled });
  await withOrg(org.orgId, (db) =>
    db('organizations')
      .where({ id: org.orgId })
      .update({ stripe_account_id: account.id, stripe_charges_enabled: chargesEnabled, stripe_details_submitted: chargesEnabled }),
  );
  const lead = await createTestLead(org.orgId);
  return { ...org, accountId: account.id, leadId: lead.id };
}

let invoiceNumber = 1000;

/** An issued (open) invoice with one line. */
export async function openInvoice(orgId: string, leadId: string, totalCents = 10_000, currency = 'USD', knex?: Knex): Promise<string> {
  invoiceNumber += 1;
  const number = invoiceNumber;
  return withOrg(
    orgId,
    async (db) => {
      const [invoice] = await db('invoices')
        .insert({
          org_id: orgId,
          lead_id: leadId,
          number,
          status: 'open',
          currency,
          issue_date: '2026-11-20',
          due_date: '2026-12-04',
          subtotal_cents: totalCents,
          total_cents: totalCents,
          issued_at: db.fn.now(),
        })
        .returning<{ id: string }[]>('id');
      await db('invoice_items').insert({
        org_id: orgId,
        invoice_id: invoice.id,
        position: 0,
        service: 'Roof repair',
        quantity: 1,
        unit_price_cents: totalCents,
        amount_cents: totalCents,
      });
      return invoice.id;
    },
    knex,
  );
}

export function metadataFor(org: ConnectedOrg, invoiceId: string): Record<string, string> {
  return { org_id: org.orgId, invoice_id: invoiceId, lead_id: org.leadId };
}

const signer = new Stripe('sk_test_signer');

/** A Stripe-Signature header; `timestamp` (Unix seconds) defaults to now. */
export function sign(payload: string, secret = WEBHOOK_SECRET, timestamp?: number): string {
  return signer.webhooks.generateTestHeaderString({ payload, secret, timestamp });
}

/** POSTs an event to /webhooks/stripe, signed like Stripe signs it. */
export function deliver(event: unknown, options: { secret?: string; signature?: string | null } = {}): supertest.Test {
  const payload = JSON.stringify(event);
  const req = supertest(testApp()).post('/webhooks/stripe').set('content-type', 'application/json');
  const signature = options.signature === undefined ? sign(payload, options.secret) : options.signature;
  if (signature !== null) req.set('stripe-signature', signature);
  return req.send(payload);
}

export interface PaymentRowView {
  kind: string;
  amount_cents: number;
  status: string;
  source: string;
  method: string;
  stripe_payment_intent_id: string | null;
  stripe_checkout_session_id: string | null;
  stripe_charge_id: string | null;
  stripe_refund_id: string | null;
}

export async function invoiceState(
  orgId: string,
  invoiceId: string,
): Promise<{ status: string; amount_paid_cents: number; payments: PaymentRowView[] }> {
  return withOrg(orgId, async (db) => {
    const invoice = await db('invoices')
      .where({ id: invoiceId })
      .first<{ status: string; amount_paid_cents: string }>('status', 'amount_paid_cents');
    const payments = await db('payments')
      .where({ invoice_id: invoiceId })
      .orderBy([{ column: 'kind' }, { column: 'paid_at' }, { column: 'amount_cents' }])
      .select<PaymentRowView[]>(
        'kind',
        'amount_cents',
        'status',
        'source',
        'method',
        'stripe_payment_intent_id',
        'stripe_checkout_session_id',
        'stripe_charge_id',
        'stripe_refund_id',
      );
    return {
      status: invoice.status,
      amount_paid_cents: Number(invoice.amount_paid_cents),
      payments: payments.map((p) => ({ ...p, amount_cents: Number(p.amount_cents) })),
    };
  });
}

export async function countRows(orgId: string, table: 'payments' | 'stripe_events' | 'checkout_sessions'): Promise<number> {
  return withOrg(orgId, async (db) => {
    const row = await db(table).count<{ count: string }[]>('* as count');
    return Number(row[0].count);
  });
}

/** The customer presses Pay: a real Checkout Session at the stand-in, through the service. */
export async function startCheckout(org: ConnectedOrg, invoiceId: string, amountInput?: string): Promise<string> {
  const result = await withOrg(org.orgId, async (db) =>
    createInvoiceCheckout(
      db,
      {
        invoiceId,
        leadId: org.leadId,
        portalLinkId: (await generatePortalLink(db, org.leadId, { type: 'user', userId: org.userId })).link.id,
        amountInput,
        returnUrl: (code) => `${config.publicUrl}/return/${code}`,
        actor: { type: 'customer', label: 'Customer (portal)' },
      },
      getStripe(),
    ),
  );
  return result.sessionId;
}
