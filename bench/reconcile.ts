// Reconciliation benchmark: 100,000 Stripe payments across 1,000 connected orgs,
// served by the local Stripe stand-in (data generated in memory), none of them
// known to Porchlight (every webhook "lost"). Measures a run from empty and a
// second run, which must add nothing.
//
//   node --import tsx bench/reconcile.ts [--orgs 1000] [--per-org 100] [--concurrency 16]
//
// Uses its own database (porchlight_bench_stripe, recreated each time) on
// DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432).
import { scratchDatabase } from '../src/db/scratch.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const ORGS = arg('orgs', 1000);
const PER_ORG = arg('per-org', 100);
const CONCURRENCY = arg('concurrency', 16);
const DB_NAME = 'porchlight_bench_stripe';

const scratch = scratchDatabase(DB_NAME);
process.env.DATABASE_URL = scratch.url;
process.env.DATABASE_POOL_MAX ??= String(CONCURRENCY + 4);
process.env.LOG_LEVEL ??= 'silent';
process.env.NODE_ENV ??= 'development';
delete process.env.REDIS_URL;

async function main(): Promise<void> {
  await scratch.recreate();
  // Imported after the environment is set: config is read once at import.
  const { migrateLatest } = await import('../src/db/migrate.js');
  await migrateLatest(scratch.url);
  const { config } = await import('../src/config.js');
  const { getDb, closeDb } = await import('../src/db/knex.js');
  const { resetStripe } = await import('../src/stripe/client.js');
  const { reconcileAll } = await import('../src/payments/stripe/reconcile.js');
  const { StripeConnectStandIn } = await import('../src/dev/stripe-standin.js');

  const standIn = new StripeConnectStandIn();
  standIn.recordRequests = false;
  const url = await standIn.start();
  Object.assign(config.stripe, { secretKey: 'sk_test_bench', apiUrl: url });
  resetStripe();

  // Orgs, one customer each and PER_ORG open invoices, in bulk (as the migrating superuser).
  const db = getDb();
  const seedStart = performance.now();
  await db.raw(
    `insert into organizations (name, plan, stripe_account_id, stripe_charges_enabled, stripe_details_submitted)
     select 'Bench Co ' || n, 'pro', 'acct_bench_' || n, true, true from generate_series(1, ?) n`,
    [ORGS],
  );
  await db.raw(`insert into leads (org_id, first_name, last_name) select id, 'Casey', 'Bench' from organizations`);
  await db.raw(
    `insert into invoices (org_id, lead_id, number, status, currency, issue_date, due_date, subtotal_cents, total_cents, issued_at)
     select l.org_id, l.id, n, 'open', 'USD', current_date, current_date + 14, 10000 + n, 10000 + n, now()
       from leads l cross join generate_series(1, ?) n`,
    [PER_ORG],
  );
  const rows = await db.raw<{ rows: { org_id: string; lead_id: string; invoice_id: string; account: string; total: string }[] }>(
    `select i.org_id, i.lead_id, i.id as invoice_id, o.stripe_account_id as account, i.total_cents as total
       from invoices i join organizations o on o.id = i.org_id`,
  );
  const created = Math.floor(Date.now() / 1000) - 3600;
  for (const account of new Set(rows.rows.map((r) => r.account)))
    standIn.addAccount({ id: account, charges_enabled: true, details_submitted: true });
  for (const r of rows.rows) {
    standIn.addPaidCheckout(r.account, {
      amount: Number(r.total),
      currency: 'usd',
      metadata: { org_id: r.org_id, invoice_id: r.invoice_id, lead_id: r.lead_id },
      created,
    });
  }
  const seedMs = performance.now() - seedStart;
  console.log(`seeded ${ORGS} orgs, ${rows.rows.length} invoices, ${rows.rows.length} Stripe payments in ${(seedMs / 1000).toFixed(1)} s`);

  const countPayments = async () => Number((await db('payments').count<{ count: string }[]>('* as count'))[0].count);
  const countPaid = async () => Number((await db('invoices').where({ status: 'paid' }).count<{ count: string }[]>('* as count'))[0].count);

  const t1 = performance.now();
  const first = await reconcileAll({ concurrency: CONCURRENCY });
  const firstMs = performance.now() - t1;
  const afterFirst = await countPayments();
  console.log(
    `run 1 (from empty): ${(firstMs / 1000).toFixed(2)} s — orgs ${first.orgs}, failed ${first.failed}, payments recorded ${first.payments} ` +
      `(rows in payments: ${afterFirst}, invoices paid: ${await countPaid()}) — ${Math.round(first.payments / (firstMs / 1000))} payments/s`,
  );

  const t2 = performance.now();
  const second = await reconcileAll({ concurrency: CONCURRENCY });
  const secondMs = performance.now() - t2;
  const afterSecond = await countPayments();
  console.log(
    `run 2 (nothing missing): ${(secondMs / 1000).toFixed(2)} s — payments recorded ${second.payments}, refunds ${second.refunds}, ` +
      `rows added ${afterSecond - afterFirst}, failed ${second.failed}`,
  );

  const ok =
    first.payments === ORGS * PER_ORG &&
    afterFirst === ORGS * PER_ORG &&
    second.payments === 0 &&
    afterSecond === afterFirst &&
    first.failed === 0;
  console.log(ok ? `OK: target < 60 s ${firstMs < 60_000 ? 'met' : 'MISSED'}` : 'FAILED: counts do not match');
  await standIn.stop();
  await closeDb();
  process.exitCode = ok ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
