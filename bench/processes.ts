// Benchmark (issue 11, point 4): two web and two worker processes, real ones,
// on one Postgres and one Redis, as the README says to scale. Reports:
//   - BENCH_SENDS (default 5,000) sends posted through both web processes in
//     turn: how many were delivered, how many twice, how many never;
//   - a Stripe webhook replay storm (BENCH_REPLAYS, default 1,000 deliveries of
//     the same two events) split across both web processes: payments recorded;
//   - reconciliation started in both workers at once over BENCH_ORGS (default
//     20) orgs with a payment whose webhook was lost: payments recorded.
// The baseline for each is the count a single process must produce (one per
// send, one payment per paid invoice): ratios above 1 mean duplicates.
//   node --import tsx bench/processes.ts
// Env: DATABASE_URL (server; a scratch database porchlight_bench_processes is
// recreated on it), REDIS_URL (default redis://127.0.0.1:6379).
import { scratchDatabase } from '../src/db/scratch.js';
import crypto from 'node:crypto';

const SENDS = Number(process.env.BENCH_SENDS ?? 5000);
const REPLAYS = Number(process.env.BENCH_REPLAYS ?? 1000);
const ORGS = Number(process.env.BENCH_ORGS ?? 20);
const scratch = scratchDatabase('porchlight_bench_processes');

process.env.DATABASE_URL = scratch.url;
process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';
process.env.QUEUE_PREFIX = `bench-processes-${process.pid}`;
process.env.LOG_LEVEL ??= 'silent';
process.env.NODE_ENV = 'test'; // the children run as the test suite runs them (stand-ins, generous rate limits)
process.env.PUBLIC_URL ??= 'https://porchlight.example';
process.env.APP_SECRET ??= crypto.randomBytes(32).toString('hex');

async function main(): Promise<void> {
  await scratch.recreate();
  const { migrateLatest } = await import('../src/db/migrate.js');
  await migrateLatest(scratch.url);
  const { config } = await import('../src/config.js');
  const { closeDb } = await import('../src/db/knex.js');
  const { startStandIn, stopStandIn } = await import('../test/payments/stripe-fixtures.js');
  const { reconcileInBothWorkers, sendThroughCluster, startCluster, webhookReplayStorm } = await import('../test/support/cluster.js');
  const { processEnv } = await import('../test/support/process-env.js');
  const { startTestSmtp } = await import('../test/support/smtp.js');
  const { startTwilioStandin } = await import('../test/support/twilio-standin.js');

  const twilio = await startTwilioStandin();
  const smtp = await startTestSmtp({ parse: false });
  const stripe = await startStandIn();
  const cluster = await startCluster(
    { webs: 2, workers: 2 },
    processEnv(
      { redisUrl: config.redisUrl!, databaseUrl: scratch.url, twilio, smtp },
      {
        DATABASE_POOL_MAX: '10',
        STRIPE_SECRET_KEY: config.stripe.secretKey,
        STRIPE_API_URL: config.stripe.apiUrl,
        STRIPE_CONNECT_WEBHOOK_SECRET: config.stripe.connectWebhookSecret,
      },
    ),
  ).catch((err: Error) => {
    throw new Error(`the processes did not start: ${err.message}`);
  });
  let ok = false;
  try {
    process.stdout.write(`processes bench: 2 web + 2 worker processes, one Postgres, one Redis\n`);
    const sends = await sendThroughCluster(cluster, SENDS, () => [...twilio.sent.map((m) => m.to), ...smtp.recipients], {
      concurrency: 20,
      timeoutMs: 600_000,
    });
    process.stdout.write(
      `  sends: ${sends.requested} posted (alternating web processes), ${sends.accepted} accepted, ${sends.sent} rows sent` +
        `${Object.keys(sends.notSent).length ? `, others ${JSON.stringify(sends.notSent)}` : ''}; ` +
        `providers received ${sends.delivered} = ${(sends.delivered / sends.accepted).toFixed(3)}× the accepted sends; ` +
        `sent twice ${sends.duplicates}, never ${sends.missing}; ${sends.seconds.toFixed(1)} s (${(sends.accepted / sends.seconds).toFixed(0)} sends/s end to end)\n`,
    );
    const storm = await webhookReplayStorm(cluster, stripe, REPLAYS);
    process.stdout.write(
      `  webhook replay storm: ${storm.deliveries} deliveries of 2 events (${storm.okPerWeb.join(' + ')} answered 200 per web process` +
        `${storm.otherStatuses.length ? `, other answers ${JSON.stringify(storm.otherStatuses.slice(0, 10))}` : ''}) → ` +
        `${storm.payments} payment (= ${storm.payments.toFixed(3)}× the one expected); invoice ${storm.invoiceStatus}, paid ${storm.amountPaidCents / 100}\n`,
    );
    const recon = await reconcileInBothWorkers(stripe, ORGS);
    const recorded = recon.paymentsPerInvoice.reduce((a, b) => a + b, 0);
    process.stdout.write(
      `  reconciliation in both workers at once: ${recon.orgs} orgs with a lost webhook; runs ${recon.runs
        .map((r) => `${r.processedBy ?? '?'} recorded ${r.payments} in ${r.finishedAt - r.startedAt} ms`)
        .join(', ')}; ${recon.overlapped ? 'the runs overlapped' : 'the runs did NOT overlap'}; ` +
        `payment rows ${recorded} = ${(recorded / recon.orgs).toFixed(3)}× one per invoice\n`,
    );
    ok =
      sends.accepted === SENDS &&
      sends.sent === SENDS &&
      sends.delivered === SENDS &&
      sends.duplicates === 0 &&
      sends.missing === 0 &&
      storm.payments === 1 &&
      storm.otherStatuses.length === 0 &&
      recon.paymentsPerInvoice.every((n) => n === 1) &&
      new Set(recon.runs.map((r) => r.processedBy)).size === 2;
    process.stdout.write(ok ? '  check: every count exactly once ✔\n' : '  check FAILED\n');
  } finally {
    await cluster.stop();
    await stopStandIn(stripe);
    await twilio.close();
    await smtp.close();
    await closeDb();
  }
  process.exitCode = ok ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
