// Autopay benchmark (issue 15 point 3): 10,000 invoices due today across 100
// Pro orgs (100 customers each, every one with a saved card and autopay on),
// charged by one autopay run against the Stripe stand-in (in this process,
// over HTTP through the official SDK). Checks that every invoice was charged
// exactly once — one PaymentIntent at the stand-in and one payment recorded per
// invoice, all paid — and that a second run the same day charges nothing; reports
// the run time.
//
//   node --import tsx bench/autopay.ts [--orgs 100] [--per-org 100] [--concurrency 16]
//
// Uses its own database (porchlight_bench_autopay, recreated each time) on
// DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432). Failure
// notices are not part of it (every card succeeds), so Redis is not needed.
import { cpus, loadavg } from 'node:os';
import { scratchDatabase } from '../src/db/scratch.js';
import { StripeConnectStandIn, TEST_CARDS } from '../src/dev/stripe-standin.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const ORGS = arg('orgs', 100);
const PER_ORG = arg('per-org', 100);
const CONCURRENCY = arg('concurrency', 16);
const DB_NAME = 'porchlight_bench_autopay';

const scratch = scratchDatabase(DB_NAME);
process.env.DATABASE_URL = scratch.url;
process.env.LOG_LEVEL ??= 'silent';
process.env.NODE_ENV ??= 'development';

async function main(): Promise<void> {
  const standIn = new StripeConnectStandIn();
  standIn.recordRequests = false;
  const apiUrl = await standIn.start();
  process.env.STRIPE_SECRET_KEY = 'sk_test_bench_autopay';
  process.env.STRIPE_API_URL = apiUrl;
  await scratch.recreate();
  // Imported after the environment is set: config is read once at import.
  const { migrateLatest } = await import('../src/db/migrate.js');
  await migrateLatest(scratch.url);
  const { getDb, closeDb } = await import('../src/db/knex.js');
  const { runAutopay } = await import('../src/payments/stripe/autopay.js');
  const { PORTAL_LINK_PLACEHOLDER } = await import('../src/messaging/link-placeholder.js');

  const now = new Date();
  now.setUTCHours(18, 0, 0, 0);
  const db = getDb();
  const seedStart = performance.now();
  await db.raw(
    `insert into organizations (name, plan, time_zone, stripe_charges_enabled)
     select 'Bench Co ' || n, 'pro', (array['America/New_York', 'America/Chicago', 'America/Los_Angeles', 'Europe/London'])[1 + n % 4], true
       from generate_series(1, ?) n`,
    [ORGS],
  );
  const orgs = (await db.raw<{ rows: { id: string }[] }>('select id from organizations order by id')).rows;
  for (const org of orgs) {
    const account = standIn.addAccount({ charges_enabled: true, details_submitted: true });
    await db.raw('update organizations set stripe_account_id = ? where id = ?', [account.id, org.id]);
  }
  await db.raw(
    `insert into leads (org_id, first_name, last_name, email)
     select o.id, 'Casey', 'Bench ' || n, 'casey' || n || '@' || replace(o.id::text, '-', '') || '.example'
       from organizations o cross join generate_series(1, ?) n`,
    [PER_ORG],
  );
  await db.raw(
    `insert into portal_links (org_id, lead_id, token_sha256, token_ciphertext)
     select l.org_id, l.id, encode(sha256(convert_to(l.id::text, 'utf8')), 'hex'), 'bench' from leads l`,
  );
  // Each customer's Stripe Customer and saved card, as Checkout would have left them (a card at the stand-in).
  const leads = (
    await db.raw<{ rows: { id: string; org_id: string; account: string; link_id: string }[] }>(
      `select l.id, l.org_id, o.stripe_account_id as account, pl.id as link_id
         from leads l join organizations o on o.id = l.org_id join portal_links pl on pl.lead_id = l.id`,
    )
  ).rows;
  const customers = leads.map((l, i) => {
    const customer = `cus_bench${i}`;
    const pm = standIn.addPaymentMethod(l.account, TEST_CARDS.visa, customer);
    return {
      org_id: l.org_id,
      lead_id: l.id,
      stripe_account_id: l.account,
      stripe_customer_id: customer,
      payment_method_id: pm.id,
      card_brand: 'visa',
      card_last4: '4242',
      card_exp_month: 12,
      card_exp_year: 2034,
      autopay_enabled_at: new Date(now.getTime() - 30 * 86_400_000),
      autopay_link_id: l.link_id,
    };
  });
  for (let i = 0; i < customers.length; i += 1000) await db('stripe_customers').insert(customers.slice(i, i + 1000));
  // One invoice per customer, due today in the org's zone.
  await db.raw(
    `with numbered as (
       select l.org_id, l.id as lead_id, o.time_zone, row_number() over (partition by l.org_id order by l.id) as n
         from leads l join organizations o on o.id = l.org_id)
     insert into invoices (org_id, lead_id, number, status, currency, issue_date, due_date, subtotal_cents, total_cents, issued_at)
     select org_id, lead_id, n, 'open', 'USD', d - 14, d, 10000 + n, 10000 + n, now()
       from (select *, (?::timestamptz at time zone time_zone)::date as d from numbered) x`,
    [now.toISOString()],
  );
  await db.raw('analyze');
  const count = async (sql: string) => Number((await db.raw<{ rows: { n: string }[] }>(sql)).rows[0].n);
  const invoices = await count("select count(*) as n from invoices where status = 'open'");
  console.log(`seeded ${ORGS} orgs, ${invoices} due invoices with autopay on in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

  const t1 = performance.now();
  const first = await runAutopay({ now, link: PORTAL_LINK_PLACEHOLDER, concurrency: CONCURRENCY });
  const firstMs = performance.now() - t1;
  console.log(
    `run 1: ${(firstMs / 1000).toFixed(2)} s — ${first.claimed} claimed, ${first.succeeded} charged, ${first.failed} failed, ` +
      `${first.unanswered} unanswered (${Math.round(first.succeeded / (firstMs / 1000))} charges/s, ${CONCURRENCY} in flight)`,
  );
  const { claimMs, chargeMs, recordMs } = first.timings;
  console.log(
    `  claim ${(claimMs / 1000).toFixed(2)} s · Stripe calls ${(chargeMs / 1000).toFixed(2)} s · recording ${(recordMs / 1000).toFixed(2)} s`,
  );
  const t2 = performance.now();
  const second = await runAutopay({ now: new Date(now.getTime() + 3_600_000), link: PORTAL_LINK_PLACEHOLDER, concurrency: CONCURRENCY });
  console.log(`run 2 (an hour later, same day): ${((performance.now() - t2) / 1000).toFixed(2)} s — ${second.claimed} claimed`);

  const paymentIntents = [...standIn.accounts.keys()].flatMap((a) => standIn.paymentIntents(a));
  const chargedInvoices = new Set(paymentIntents.map((pi) => pi.metadata.invoice_id));
  const payments = await count("select count(*) as n from payments where kind = 'payment' and source = 'stripe'");
  const paidInvoices = await count('select count(distinct invoice_id) as n from payments');
  const paid = await count("select count(*) as n from invoices where status = 'paid'");
  const attempts = await count("select count(*) as n from autopay_attempts where status = 'succeeded'");
  console.log(
    `stand-in: ${paymentIntents.length} PaymentIntents for ${chargedInvoices.size} invoices; ` +
      `database: ${payments} payments on ${paidInvoices} invoices, ${paid} invoices paid, ${attempts} attempts succeeded`,
  );
  const ok =
    paymentIntents.length === invoices &&
    chargedInvoices.size === invoices &&
    payments === invoices &&
    paidInvoices === invoices &&
    paid === invoices &&
    attempts === invoices &&
    second.claimed === 0;
  console.log(
    `load average (1/5/15 min) on ${cpus().length} cores: ${loadavg()
      .map((n) => n.toFixed(1))
      .join(' / ')}`,
  );
  console.log(
    ok ? `OK: ${invoices} due invoices each charged exactly once in ${(firstMs / 1000).toFixed(2)} s` : 'FAILED: see the counts above',
  );
  await closeDb();
  await standIn.stop();
  process.exitCode = ok ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
