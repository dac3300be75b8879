// Several real web and worker processes on one Postgres and one Redis (issue 11,
// point 4), and the three things that must stay exactly-once across them: sends,
// a Stripe webhook replay storm, and reconciliation run by two workers at once.
// Used at small scale by test/faults/processes.test.ts and at full scale by
// bench/processes.ts.
import { Queue, type Job } from 'bullmq';
import { spawn, type ChildProcess } from 'node:child_process';
import pLimit from 'p-limit';
import { config } from '../../src/config.js';
import { withOrg } from '../../src/db/tenancy.js';
import { generatePortalLink } from '../../src/portal-links/commands.js';
import { createRedis } from '../../src/queue/redis.js';
import { RECONCILE_QUEUE } from '../../workers/reconcile-stripe.js';
import { connectedOrg, invoiceState, openInvoice, sign, startCheckout } from '../payments/stripe-fixtures.js';
import { createTestOrg } from './factories.js';
import { freePort, stopChild, waitForLine } from './processes.js';
import type { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';

export interface Cluster {
  /** Base URLs of the web processes. */
  webs: string[];
  workers: ChildProcess[];
  /** Everything each process logged, web processes first. */
  logs: string[];
  stop(): Promise<void>;
}

function launch(entry: string, env: NodeJS.ProcessEnv, logs: string[], index: number): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  logs[index] = '';
  const keep = (c: Buffer) => (logs[index] += c.toString());
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return child;
}

/** Starts `webs` web and `workers` worker processes with `env` (see process-env.ts) and waits until each is up. */
export async function startCluster(counts: { webs: number; workers: number }, env: NodeJS.ProcessEnv): Promise<Cluster> {
  const logs: string[] = [];
  const children: ChildProcess[] = [];
  const webs: string[] = [];
  try {
    const ports = await Promise.all(Array.from({ length: counts.webs }, () => freePort()));
    ports.forEach((port, i) => {
      children.push(launch('src/server.ts', { ...env, PORT: String(port) }, logs, i));
      webs.push(`http://127.0.0.1:${port}`);
    });
    for (let i = 0; i < counts.workers; i++) children.push(launch('workers/index.ts', env, logs, counts.webs + i));
    await Promise.all(children.map((child, i) => waitForLine(child, i < counts.webs ? /web listening/ : /workers started/, 60_000)));
  } catch (err) {
    await Promise.all(children.map((c) => stopChild(c)));
    throw err;
  }
  return {
    webs,
    workers: children.slice(counts.webs),
    logs,
    stop: async () => {
      await Promise.all(children.map((c) => stopChild(c)));
    },
  };
}

/** A logged-in dashboard session against one web process (cookie + CSRF token). */
export async function webSession(base: string, email: string, password: string): Promise<{ cookie: string; csrf: string }> {
  const cookieOf = (res: Response) => /porchlight\.sid=[^;]+/.exec(res.headers.get('set-cookie') ?? '')?.[0] ?? '';
  const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const page = await fetch(`${base}/login`);
  const login = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: cookieOf(page), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, password, _csrf: csrfOf(await page.text()) }),
  });
  if (login.status !== 303) throw new Error(`log-in at ${base} answered ${login.status}`);
  const cookie = cookieOf(login);
  const home = await fetch(`${base}/`, { headers: { cookie } });
  return { cookie, csrf: csrfOf(await home.text()) };
}

export interface SendCounts {
  requested: number;
  /** Answered 303 (stored and queued) by a web process. */
  accepted: number;
  /** Rows that ended 'sent'. */
  sent: number;
  /** Rows in any other state when the wait ended. */
  notSent: Record<string, number>;
  /** What the providers received. */
  delivered: number;
  /** Recipients that received more than one message. */
  duplicates: number;
  /** Recipients of accepted sends that received nothing. */
  missing: number;
  seconds: number;
}

/**
 * `count` sends (half email, half SMS, one recipient each) posted through the
 * web processes in turn, `concurrency` at a time; waits until every row is
 * settled, then compares rows with what the providers received (`received`
 * lists every recipient address the stand-ins took, once per message).
 */
export async function sendThroughCluster(
  cluster: Cluster,
  count: number,
  received: () => string[] | Promise<string[]>,
  options: { concurrency?: number; timeoutMs?: number } = {},
): Promise<SendCounts> {
  const org = await createTestOrg({ plan: 'pro' });
  const customers = Math.ceil(count / 2);
  const tag = org.orgId.slice(0, 8);
  const leads = await withOrg(org.orgId, async (db) => {
    const rows: { id: string; email: string; phone: string }[] = [];
    for (let i = 0; i < customers; i += 500) {
      const batch = Array.from({ length: Math.min(500, customers - i) }, (_, j) => ({
        org_id: org.orgId,
        first_name: `Cust${i + j}`,
        email: `c${i + j}-${tag}@example.test`,
        phone: `+1555${String(Math.floor(Math.random() * 1e3)).padStart(3, '0')}${String(i + j).padStart(4, '0')}`,
      }));
      rows.push(...(await db('leads').insert(batch).returning<{ id: string; email: string; phone: string }[]>(['id', 'email', 'phone'])));
    }
    for (const lead of rows) await generatePortalLink(db, lead.id, { type: 'user', userId: org.userId });
    return rows;
  });
  const sessions = await Promise.all(cluster.webs.map((base) => webSession(base, org.email, org.password)));
  const limit = pLimit(options.concurrency ?? 20);
  const started = Date.now();
  const expected: string[] = [];
  const statuses = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      limit(async () => {
        const lead = leads[Math.floor(i / 2)];
        const channel = i % 2 ? 'sms' : 'email';
        const confirmTo = channel === 'sms' ? lead.phone : lead.email;
        const web = (i + Math.floor(i / 2)) % cluster.webs.length;
        const res = await fetch(`${cluster.webs[web]}/customers/${lead.id}/send`, {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie: sessions[web].cookie, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ channel, context: 'general', confirmTo, _csrf: sessions[web].csrf }),
        });
        await res.arrayBuffer();
        if (res.status === 303) expected.push(confirmTo);
        return res.status;
      }),
    ),
  );
  const accepted = statuses.filter((s) => s === 303).length;
  const until = Date.now() + (options.timeoutMs ?? 120_000);
  let byStatus: Record<string, number> = {};
  for (;;) {
    const rows = await withOrg(org.orgId, (db) =>
      db('message_deliveries').select('status').count<{ status: string; count: string }[]>('* as count').groupBy('status'),
    );
    byStatus = Object.fromEntries(rows.map((r) => [r.status, Number(r.count)]));
    const settled = (byStatus.sent ?? 0) + (byStatus.failed ?? 0) + (byStatus.undeliverable ?? 0);
    if (settled >= accepted || Date.now() > until) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const seconds = (Date.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 1_000)); // anything sent twice would arrive by now
  const mine = new Set(expected);
  const tally = new Map<string, number>();
  for (const to of await received()) if (mine.has(to)) tally.set(to, (tally.get(to) ?? 0) + 1);
  const { sent = 0, ...notSent } = byStatus;
  return {
    requested: count,
    accepted,
    sent,
    notSent,
    delivered: [...tally.values()].reduce((a, b) => a + b, 0),
    duplicates: [...tally.values()].filter((n) => n > 1).length,
    missing: expected.filter((to) => !tally.has(to)).length,
    seconds,
  };
}

export interface StormCounts {
  deliveries: number;
  /** Deliveries each web process answered 200. */
  okPerWeb: number[];
  otherStatuses: number[];
  payments: number;
  invoiceStatus: string;
  amountPaidCents: number;
}

/**
 * One customer pays an invoice; Stripe then "replays" its events: the same
 * checkout.session.completed and payment_intent.succeeded events (same ids)
 * `deliveries` times in all, alternating between the web processes, all at once.
 */
export async function webhookReplayStorm(cluster: Cluster, standIn: StripeConnectStandIn, deliveries: number): Promise<StormCounts> {
  const org = await connectedOrg(standIn, { plan: 'pro' });
  const invoiceId = await openInvoice(org.orgId, org.leadId, 12_500);
  const sessionId = await startCheckout(org, invoiceId);
  const { session, paymentIntent } = standIn.completeCheckout(org.accountId, sessionId);
  const events = [
    standIn.event('checkout.session.completed', session, org.accountId),
    standIn.event('payment_intent.succeeded', paymentIntent, org.accountId),
  ];
  const okPerWeb = cluster.webs.map(() => 0);
  const otherStatuses: number[] = [];
  const limit = pLimit(50);
  await Promise.all(
    Array.from({ length: deliveries }, (_, i) =>
      limit(async () => {
        const payload = JSON.stringify(events[i % events.length]);
        const web = Math.floor(i / events.length) % cluster.webs.length;
        const res = await fetch(`${cluster.webs[web]}/webhooks/stripe`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'stripe-signature': sign(payload, config.stripe.connectWebhookSecret) },
          body: payload,
        });
        await res.arrayBuffer();
        if (res.status === 200) okPerWeb[web] += 1;
        else otherStatuses.push(res.status);
      }),
    ),
  );
  const state = await invoiceState(org.orgId, invoiceId);
  return {
    deliveries,
    okPerWeb,
    otherStatuses,
    payments: state.payments.filter((p) => p.kind === 'payment').length,
    invoiceStatus: state.status,
    amountPaidCents: state.amount_paid_cents,
  };
}

export interface ReconcileCounts {
  orgs: number;
  /** Payments each run recorded, and the process that ran it (BullMQ's processedBy). */
  runs: Array<{ processedBy: string | undefined; payments: number; startedAt: number; finishedAt: number }>;
  /** Whether the two runs were in progress at the same time. */
  overlapped: boolean;
  /** Payment rows for the paid invoices afterwards (one each expected). */
  paymentsPerInvoice: number[];
}

/**
 * `orgs` connected orgs each had an invoice paid whose webhook never arrived;
 * two reconciliation jobs are added at the same moment, so both workers run
 * reconcileAll() at once.
 */
export async function reconcileInBothWorkers(standIn: StripeConnectStandIn, orgs: number): Promise<ReconcileCounts> {
  const paid: Array<{ orgId: string; invoiceId: string }> = [];
  for (let i = 0; i < orgs; i++) {
    const org = await connectedOrg(standIn, { plan: 'pro' });
    const invoiceId = await openInvoice(org.orgId, org.leadId, 4_000 + i);
    standIn.completeCheckout(org.accountId, await startCheckout(org, invoiceId));
    paid.push({ orgId: org.orgId, invoiceId });
  }
  const connection = createRedis('worker');
  const queue = new Queue(RECONCILE_QUEUE, { connection, prefix: config.queuePrefix });
  try {
    const jobs = await queue.addBulk([
      { name: 'reconcile', data: {}, opts: { attempts: 1 } },
      { name: 'reconcile', data: {}, opts: { attempts: 1 } },
    ]);
    const until = Date.now() + 120_000;
    let done: Job[] = [];
    while (Date.now() < until) {
      done = (await Promise.all(jobs.map((j) => queue.getJob(j.id!)))).filter((j): j is Job => Boolean(j?.finishedOn));
      if (done.length === jobs.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    if (done.length !== jobs.length) throw new Error('the two reconciliation runs did not finish within 2 minutes');
    const runs = done.map((j) => ({
      processedBy: j.processedBy,
      payments: Number((j.returnvalue as { payments?: number } | null)?.payments ?? NaN),
      startedAt: j.processedOn ?? 0,
      finishedAt: j.finishedOn ?? 0,
    }));
    const [a, b] = runs;
    const paymentsPerInvoice = await Promise.all(
      paid.map(async (p) => (await invoiceState(p.orgId, p.invoiceId)).payments.filter((x) => x.kind === 'payment').length),
    );
    return { orgs, runs, overlapped: a.startedAt < b.finishedAt && b.startedAt < a.finishedAt, paymentsPerInvoice };
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
