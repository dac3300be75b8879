// Issue 11, point 3: Postgres restarted under load. A web and a worker process
// (real ones) run on a Postgres of the test's own; it is stopped (fast
// shutdown: connections cut) and started again while sends and Stripe webhook
// deliveries are in flight. Both processes recover without a restart, and
// every message accepted goes out once, every payment is recorded once.
import { expect } from 'chai';
import type { Knex } from 'knex';
import pLimit from 'p-limit';
import { createOrganization } from '../../src/auth/commands.js';
import { hashPassword } from '../../src/auth/passwords.js';
import { config } from '../../src/config.js';
import { createKnex } from '../../src/db/knex.js';
import { migrateLatest } from '../../src/db/migrate.js';
import { withOrg } from '../../src/db/tenancy.js';
import { createInvoiceCheckout } from '../../src/payments/stripe/checkout.js';
import { generatePortalLink } from '../../src/portal-links/commands.js';
import { getStripe } from '../../src/stripe/client.js';
import { openInvoice, sign, startStandIn, stopStandIn } from '../payments/stripe-fixtures.js';
import { startCluster, webSession, type Cluster } from '../support/cluster.js';
import { startOwnPostgres, type OwnPostgres } from '../support/own-postgres.js';
import { processEnv } from '../support/process-env.js';
import { startTestSmtp, type TestSmtp } from '../support/smtp.js';
import type { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import { startTwilioStandin, type TwilioStandin } from '../support/twilio-standin.js';

const CUSTOMERS = 20; // one email and one text each
const PAID_INVOICES = 10; // two events each, each delivered twice
const PASSWORD = 'postgres-restart-password-42';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Seeded {
  orgId: string;
  email: string;
  leads: Array<{ id: string; email: string; phone: string }>;
  invoices: string[];
  events: Array<Record<string, unknown>>;
}

async function seed(knex: Knex, stripe: StripeConnectStandIn): Promise<Seeded> {
  const email = `pg-restart-${process.pid}@example.test`;
  const { orgId, userId } = await createOrganization(
    { name: 'Restart Roofing', plan: 'pro', owner: { name: 'Rita', email, passwordHash: await hashPassword(PASSWORD) } },
    knex,
  );
  const account = stripe.addAccount({ charges_enabled: true, details_submitted: true });
  const leads = await withOrg(
    orgId,
    async (db) => {
      await db('organizations')
        .where({ id: orgId })
        .update({ stripe_account_id: account.id, stripe_charges_enabled: true, stripe_details_submitted: true });
      const rows = await db('leads')
        .insert(
          Array.from({ length: CUSTOMERS }, (_, i) => ({
            org_id: orgId,
            first_name: `Cust${i}`,
            email: `restart-${i}@example.test`,
            phone: `+1555770${String(1000 + i)}`,
          })),
        )
        .returning<Seeded['leads']>(['id', 'email', 'phone']);
      for (const lead of rows) await generatePortalLink(db, lead.id, { type: 'user', userId });
      return rows;
    },
    knex,
  );
  const invoices: string[] = [];
  const events: Seeded['events'] = [];
  for (let i = 0; i < PAID_INVOICES; i++) {
    const lead = leads[i];
    const invoiceId = await openInvoice(orgId, lead.id, 5_000 + i, 'USD', knex);
    const { sessionId } = await withOrg(
      orgId,
      async (db) =>
        createInvoiceCheckout(
          db,
          {
            invoiceId,
            leadId: lead.id,
            portalLinkId: (await generatePortalLink(db, lead.id, { type: 'user', userId })).link.id,
            returnUrl: (code) => `${config.publicUrl}/return/${code}`,
            actor: { type: 'customer', label: 'Customer (portal)' },
          },
          getStripe(),
        ),
      knex,
    );
    const { session, paymentIntent } = stripe.completeCheckout(account.id, sessionId);
    invoices.push(invoiceId);
    events.push(
      stripe.event('checkout.session.completed', session, account.id),
      stripe.event('payment_intent.succeeded', paymentIntent, account.id),
    );
  }
  return { orgId, email, leads, invoices, events };
}

describe('Postgres restarted under load (fault: own Postgres, real web and worker processes)', function () {
  this.timeout(240_000);
  let pgOwn: OwnPostgres;
  let knex: Knex;
  let twilio: TwilioStandin;
  let smtp: TestSmtp;
  let stripe: StripeConnectStandIn;
  let cluster: Cluster | undefined;

  before(async function () {
    this.timeout(180_000);
    pgOwn = await startOwnPostgres();
    await migrateLatest(pgOwn.url);
    knex = createKnex(pgOwn.url, 4);
    twilio = await startTwilioStandin();
    twilio.delayMs = 150; // sends are in flight at the provider when Postgres goes away
    smtp = await startTestSmtp({ parse: false });
    stripe = await startStandIn();
  });

  after(async () => {
    await cluster?.stop();
    await knex?.destroy();
    await pgOwn?.destroy();
    await stopStandIn(stripe);
    await twilio?.close();
    await smtp?.close();
  });

  it('web and worker recover by themselves; each accepted message is sent once and each payment recorded once', async () => {
    const seeded = await seed(knex, stripe);
    cluster = await startCluster(
      { webs: 1, workers: 1 },
      processEnv(
        { redisUrl: config.redisUrl!, databaseUrl: pgOwn.url, twilio, smtp },
        {
          QUEUE_PREFIX: `${config.queuePrefix}-pgrestart`,
          OUTBOX_SWEEP_SECONDS: '1',
          STRIPE_SECRET_KEY: config.stripe.secretKey,
          STRIPE_API_URL: config.stripe.apiUrl,
          STRIPE_CONNECT_WEBHOOK_SECRET: config.stripe.connectWebhookSecret,
        },
      ),
    );
    const [web] = cluster.webs;
    const session = await webSession(web, seeded.email, PASSWORD);
    const send = async (lead: Seeded['leads'][number], channel: 'email' | 'sms') => {
      const res = await fetch(`${web}/customers/${lead.id}/send`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          channel,
          context: 'general',
          confirmTo: channel === 'sms' ? lead.phone : lead.email,
          _csrf: session.csrf,
        }),
      }).catch(() => undefined);
      await res?.arrayBuffer();
      return res?.status ?? 0;
    };

    // The load: sends paced over a few seconds, and Stripe delivering every event twice, retrying until it gets a 200.
    const accepted: string[] = [];
    const refused: Array<{ lead: Seeded['leads'][number]; channel: 'email' | 'sms' }> = [];
    let answered = 0;
    const sendLimit = pLimit(2);
    const sends = Promise.all(
      seeded.leads.flatMap((lead) =>
        (['email', 'sms'] as const).map((channel) =>
          sendLimit(async () => {
            const status = await send(lead, channel);
            answered += 1;
            if (status === 303) accepted.push(channel === 'sms' ? lead.phone : lead.email);
            else refused.push({ lead, channel });
            await sleep(100);
          }),
        ),
      ),
    );
    let webhookFailures = 0;
    const hookLimit = pLimit(4);
    const webhooks = Promise.all(
      [...seeded.events, ...seeded.events].map((event) =>
        hookLimit(async () => {
          const payload = JSON.stringify(event);
          for (const until = Date.now() + 90_000; Date.now() < until;) {
            const res = await fetch(`${web}/webhooks/stripe`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'stripe-signature': sign(payload, config.stripe.connectWebhookSecret) },
              body: payload,
            }).catch(() => undefined);
            await res?.arrayBuffer();
            if (res?.status === 200) return;
            webhookFailures += 1;
            await sleep(300);
          }
          throw new Error('a webhook delivery never got a 200');
        }),
      ),
    );

    // Mid-load: a restart (fast shutdown cuts every connection), down for 3 s.
    while (answered < 8) await sleep(20);
    await pgOwn.stop();
    await sleep(3_000);
    await pgOwn.start();
    await Promise.all([sends, webhooks]);
    expect(refused.length + webhookFailures, 'the outage hit requests in flight').to.be.greaterThan(0);

    // The customer who was told a send failed sends it again, to the same processes.
    for (const { lead, channel } of refused) {
      expect(await send(lead, channel)).to.equal(303);
      accepted.push(channel === 'sms' ? lead.phone : lead.email);
    }
    expect(accepted).to.have.length(CUSTOMERS * 2);

    // Every row final: the customer's sends, and the receipt each recorded payment queued.
    const expected = accepted.length + PAID_INVOICES;
    const settled = async () =>
      withOrg(
        seeded.orgId,
        (db) => db('message_deliveries').select('status').count<{ status: string; count: string }[]>('* as count').groupBy('status'),
        knex,
      );
    let statuses = await settled();
    for (const until = Date.now() + 90_000; Date.now() < until; statuses = await settled()) {
      if (statuses.length === 1 && statuses[0].status === 'sent' && Number(statuses[0].count) === expected) break;
      await sleep(250);
    }
    expect(statuses.map((s) => [s.status, Number(s.count)])).to.deep.equal([['sent', expected]]);
    const rows = await withOrg(
      seeded.orgId,
      (db) => db('message_deliveries').select<{ to_address: string; purpose: string }[]>('to_address', 'purpose'),
      knex,
    );
    expect(
      rows
        .filter((r) => r.purpose === 'manual')
        .map((r) => r.to_address)
        .sort(),
    ).to.deep.equal([...accepted].sort());
    await sleep(1_500); // a duplicate would have arrived by now
    // Each address got exactly as many messages as it has rows: nothing sent twice, nothing lost.
    const count = (addresses: string[]) => {
      const out = new Map<string, number>();
      for (const to of addresses) out.set(to, (out.get(to) ?? 0) + 1);
      return [...out.entries()].sort(([a], [b]) => a.localeCompare(b));
    };
    expect(count([...twilio.sent.map((m) => m.to), ...smtp.recipients]), 'messages per recipient').to.deep.equal(
      count(rows.map((r) => r.to_address)),
    );

    const payments = await withOrg(
      seeded.orgId,
      (db) => db('payments').where({ kind: 'payment' }).select<{ invoice_id: string }[]>('invoice_id'),
      knex,
    );
    expect(payments.map((p) => p.invoice_id).sort()).to.deep.equal([...seeded.invoices].sort());
    // One receipt queued per payment, however often its events arrived across the restart.
    const receipts = await withOrg(
      seeded.orgId,
      (db) => db('message_deliveries').where({ purpose: 'receipt' }).pluck<string[]>('payment_id'),
      knex,
    );
    expect(receipts).to.have.length(PAID_INVOICES);
    expect(new Set(receipts).size).to.equal(PAID_INVOICES);
    const paid = await withOrg(seeded.orgId, (db) => db('invoices').whereIn('id', seeded.invoices).pluck<string[]>('status'), knex);
    expect(paid).to.deep.equal(Array(PAID_INVOICES).fill('paid'));

    // The same processes, still serving.
    for (const child of cluster.workers) expect(child.exitCode).to.equal(null);
    const page = await fetch(`${web}/customers`, { headers: { cookie: session.cookie } });
    expect(page.status).to.equal(200);
  });
});
