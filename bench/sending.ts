// Benchmark: one worker drains 1,000 queued deliveries (half SMS, half email)
// against the local stand-ins (Twilio HTTP stand-in, smtp-server), through real
// Redis and Postgres. Prints messages/s and checks exactly 1,000 sends.
//   node --import tsx bench/sending.ts
// Env: DATABASE_URL (server; a scratch database porchlight_bench_sending is
// recreated on it), REDIS_URL (default redis://127.0.0.1:6379), BENCH_COUNT,
// BENCH_CONCURRENCY, BENCH_MIX (both | sms | email), BENCH_CPU_PROFILE=<file.cpuprofile>
// (profiles the drain only, not the seeding). Prints where each message waited (per-stage timings).
import { scratchDatabase } from '../src/db/scratch.js';
import { fork, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const TOTAL = Number(process.env.BENCH_COUNT ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const MIX = process.env.BENCH_MIX ?? 'both'; // both | sms | email
const scratch = scratchDatabase('porchlight_bench_sending');

process.env.DATABASE_URL = scratch.url;
process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';
process.env.QUEUE_PREFIX = `bench-sending-${process.pid}`;
process.env.LOG_LEVEL ??= 'silent';
process.env.NODE_ENV ??= 'development';
process.env.DATABASE_POOL_MAX ??= '20';
process.env.PUBLIC_URL ??= 'https://porchlight.example';

async function main(): Promise<void> {
  await scratch.recreate();

  const { migrateLatest } = await import('../src/db/migrate.js');
  await migrateLatest(scratch.url);
  const { withOrg } = await import('../src/db/tenancy.js');
  const { closeDb } = await import('../src/db/knex.js');
  const { generatePortalLink } = await import('../src/portal-links/commands.js');
  const { createOrganization } = await import('../src/auth/commands.js');
  const { getSendQueue, closeQueues, deliveryJobId, SEND_JOB_OPTIONS } = await import('../src/queue/queues.js');
  const { createSendWorker } = await import('../workers/send-message.js');
  const { config } = await import('../src/config.js');
  const { closeTransports } = await import('../src/messaging/transports.js');
  const { PORTAL_LINK_PLACEHOLDER } = await import('../src/messaging/link-placeholder.js');
  const { setAttachmentSource } = await import('../src/messaging/deliver.js');
  const { receiptAttachments } = await import('../src/documents/receipt-attachment.js');
  // As workers/index.ts sets it up: receipt emails carry their PDF (these aren't receipts).
  setAttachmentSource(receiptAttachments);

  // The stand-ins run in their own process: the worker process is what is measured.
  const child: ChildProcess = fork(fileURLToPath(new URL('./support/sending-standins.ts', import.meta.url)), {
    execArgv: ['--import', 'tsx'],
  });
  const ask = <T>(type: string, reply: string) =>
    new Promise<T>((resolve) => {
      const onMessage = (msg: { type: string } & T) => {
        if (msg.type === reply) {
          child.off('message', onMessage);
          resolve(msg);
        }
      };
      child.on('message', onMessage);
      if (type) child.send({ type });
    });
  const ready = await ask<{ twilio: { url: string; accountSid: string; authToken: string }; smtpUrl: string }>('', 'ready');
  Object.assign(config.twilio, {
    accountSid: ready.twilio.accountSid,
    authToken: ready.twilio.authToken,
    messagingServiceSid: 'MG00000000000000000000000000000000',
    apiUrl: ready.twilio.url,
  });
  config.smtp.url = ready.smtpUrl; // the default pool size (transports.ts), as production runs it
  closeTransports();

  // Setup (not timed): one org, 100 customers with links, TOTAL pending deliveries.
  const { orgId, userId } = await createOrganization({
    name: 'Bench Plumbing',
    plan: 'pro',
    owner: { name: 'Bench', email: `bench-${process.pid}@example.test`, passwordHash: 'x' },
  });
  const jobs = await withOrg(orgId, async (db) => {
    const leads = await db('leads')
      .insert(
        Array.from({ length: 100 }, (_, i) => ({
          org_id: orgId,
          first_name: `Cust${i}`,
          email: `c${i}@example.test`,
          phone: `+1555555${String(1000 + i).padStart(4, '0')}`,
        })),
      )
      .returning<{ id: string; email: string; phone: string }[]>(['id', 'email', 'phone']);
    const links = new Map<string, string>();
    for (const lead of leads) links.set(lead.id, (await generatePortalLink(db, lead.id, { type: 'user', userId })).link.id);
    const rows = Array.from({ length: TOTAL }, (_, i) => {
      const lead = leads[i % leads.length];
      const sms = MIX === 'sms' || (MIX === 'both' && i % 2 === 0);
      return {
        org_id: orgId,
        lead_id: lead.id,
        portal_link_id: links.get(lead.id),
        channel: sms ? 'sms' : 'email',
        to_address: sms ? lead.phone : lead.email,
        subject: sms ? null : 'Bench Plumbing: your customer page',
        // Stored as the send route stores it: the worker decrypts each row's link and puts it in.
        body_text: `Hi, your customer page (${i}): ${PORTAL_LINK_PLACEHOLDER}`,
        body_html: sms ? null : `<p>Hi, <a href="${PORTAL_LINK_PLACEHOLDER}">your customer page</a> (${i})</p>`,
        status: 'pending',
      };
    });
    const inserted: { id: string }[] = [];
    for (let i = 0; i < rows.length; i += 500)
      inserted.push(
        ...(await db('message_deliveries')
          .insert(rows.slice(i, i + 500))
          .returning<{ id: string }[]>('id')),
      );
    return inserted.map((r) => ({ deliveryId: r.id, orgId }));
  });
  const queue = getSendQueue();
  await queue.waitUntilReady();
  await queue.addBulk(jobs.map((data) => ({ name: 'send', data, opts: { ...SEND_JOB_OPTIONS, jobId: deliveryJobId(data.deliveryId) } })));

  // Timed: the worker drains the queue.
  const profileFile = process.env.BENCH_CPU_PROFILE;
  const session = profileFile ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
  }
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const eluBefore = performance.eventLoopUtilization();
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const lifecycle: Array<{ deliveryId: string; processedOn: number; finishedOn: number; completedEvent: number }> = [];
  const { worker, running } = createSendWorker({ concurrency: CONCURRENCY });
  await new Promise<void>((resolve) => {
    let done = 0;
    const finish = () => {
      done += 1;
      if (done === TOTAL) resolve();
    };
    worker.on('completed', (job) => {
      const data = job.data as { deliveryId: string };
      lifecycle.push({
        deliveryId: data.deliveryId,
        processedOn: job.processedOn ?? 0,
        finishedOn: job.finishedOn ?? 0,
        completedEvent: performance.timeOrigin + performance.now(),
      });
      finish();
    });
    worker.on('failed', (job, err) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) finish();
      process.stderr.write(`job failed: ${err.message}\n`);
    });
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const elu = performance.eventLoopUtilization(eluBefore);
  const cpu = process.cpuUsage(cpuBefore);
  loopDelay.disable();
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    await writeFile(profileFile!, JSON.stringify(profile));
    session.disconnect();
  }

  const statuses = await withOrg(orgId, (db) =>
    db('message_deliveries').select('status').count<{ status: string; count: string }[]>('* as count').groupBy('status'),
  );
  const sentRows = Number(statuses.find((s) => s.status === 'sent')?.count ?? 0);
  const stats = await ask<{ sms: number; smsRequests: number; email: number }>('stats', 'stats');
  const providerSends = stats.sms + stats.email;
  const rate = TOTAL / seconds;
  process.stdout.write(
    `sending bench: ${TOTAL} deliveries (${stats.sms} SMS + ${stats.email} email), concurrency ${CONCURRENCY}\n` +
      `  drained in ${seconds.toFixed(2)} s → ${rate.toFixed(0)} messages/s (target ≥ 500)\n` +
      `  provider sends: ${providerSends} (Twilio requests ${stats.smsRequests}), rows sent: ${sentRows}, statuses: ${JSON.stringify(statuses)}\n`,
  );
  process.stdout.write(jobReport(lifecycle, seconds));
  process.stdout.write(
    `  worker process: CPU ${((cpu.user + cpu.system) / 1e3 / TOTAL).toFixed(2)} ms per message (${((cpu.user + cpu.system) / 1e4 / seconds).toFixed(0)}% of one core); ` +
      `event loop ${(elu.utilization * 100).toFixed(0)}% busy; delay mean ${(loopDelay.mean / 1e6).toFixed(1)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms\n`,
  );
  const exact = providerSends === TOTAL && sentRows === TOTAL && stats.smsRequests === stats.sms;
  process.stdout.write(exact ? `  check: exactly ${TOTAL} sends ✔\n` : `  check FAILED: expected exactly ${TOTAL} sends\n`);

  await running.close();
  await queue.obliterate({ force: true }).catch(() => undefined);
  await closeQueues();
  child.send({ type: 'stop' });
  await closeDb();
  process.exitCode = exact && rate >= 500 ? 0 : 1;
}

/** How long jobs took from BullMQ's fetch to its completed event, and how busy the worker's slots were. */
function jobReport(
  lifecycle: Array<{ deliveryId: string; processedOn: number; finishedOn: number; completedEvent: number }>,
  seconds: number,
): string {
  const whole = lifecycle.map((l) => l.completedEvent - l.processedOn).sort((a, b) => a - b);
  const pct = (p: number) => whole[Math.min(whole.length - 1, Math.floor(whole.length * p))] ?? 0;
  const mean = whole.reduce((a, b) => a + b, 0) / Math.max(1, whole.length);
  const occupancy = whole.reduce((a, b) => a + b, 0) / (seconds * 1000 * CONCURRENCY);
  return `  whole job (processedOn → completed): mean ${mean.toFixed(1)} ms, p50 ${pct(0.5).toFixed(1)}, p95 ${pct(0.95).toFixed(1)}; slot occupancy ${(occupancy * 100).toFixed(0)}% of ${CONCURRENCY}\n`;
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
