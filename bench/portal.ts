// Benchmark: portal tab pages for one customer with 20 proposals, 50 invoices,
// 60 payments and 40 jobs, at 50 connections (autocannon), served by the real app
// (Postgres) and, in the same run, by the same router and views fed from memory.
// Reports throughput, the DB/memory ratio (target ≥ 20 %), p99 (target < 50 ms)
// and database round trips per page view (target ≤ 2), counted by wrapping
// pg.Client#query in the server process.
//   node --import tsx bench/portal.ts
// Env: DATABASE_URL (server; a scratch database porchlight_bench_portal is
// recreated on it), REDIS_URL (default redis://127.0.0.1:6379), BENCH_DURATION
// (seconds per run, default 10), BENCH_CONNECTIONS (default 50), DATABASE_POOL_MAX (default 20).
import { scratchDatabase } from '../src/db/scratch.js';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const scratch = scratchDatabase('porchlight_bench_portal');

process.env.DATABASE_URL = scratch.url;
process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';
process.env.QUEUE_PREFIX ??= `bench-portal-${process.pid}`;
process.env.LOG_LEVEL ??= 'silent';
process.env.NODE_ENV ??= 'development';
process.env.DATABASE_POOL_MAX ??= '20';
process.env.PUBLIC_URL ??= 'https://porchlight.example';

const TABS = ['proposals', 'invoices', 'payments', 'history'] as const;

type ToChild = { type: 'count' } | { type: 'stop' };
type FromChild = { type: 'ready'; dbPort: number; memoryPort: number } | { type: 'count'; queries: number };

export interface PortalBenchRow {
  tab: string;
  dbRps: number;
  memoryRps: number;
  ratio: number;
  dbP99Ms: number;
  memoryP99Ms: number;
  roundTripsPerView: number;
  roundTripsUnderLoad: number;
  errors: number;
}

// ------------------------------------------------------------------ server side (child)

async function serve(token: string): Promise<void> {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  let queries = 0;
  proto.query = function (this: unknown, ...args: unknown[]) {
    queries += 1;
    return original.apply(this, args);
  };

  const { default: express } = await import('express');
  const { createApp } = await import('../src/app.js');
  const { setupViews } = await import('../src/http/views.js');
  const { httpLogger } = await import('../src/logger.js');
  const { cspNonce, securityHeaders } = await import('../src/http/security.js');
  const { createPortalRouter, portalMissLimiter } = await import('../src/portal/routes.js');
  const { loadPortalPageFromDb } = await import('../src/portal/page-data.js');
  const { hashPortalToken } = await import('../src/portal/token.js');
  type Source = import('../src/portal/page-data.js').PortalPageSource;
  type Page = import('../src/portal/page-data.js').PortalPageData;

  // The same pages, read once from the database and then held in memory.
  const cache = new Map<string, Page>();
  const hash = hashPortalToken(token);
  for (const view of [{ kind: 'home' as const }, ...TABS.map((tab) => ({ kind: 'list' as const, tab, page: 1 }))]) {
    const page = await loadPortalPageFromDb(hash, view);
    if (!page) throw new Error('bench: the seeded link did not resolve');
    cache.set(JSON.stringify(view), page);
  }
  const memorySource: Source = async (tokenSha256, view) => (tokenSha256 === hash ? (cache.get(JSON.stringify(view)) ?? null) : null);

  // The app as deployed, and a variant whose portal router skips the database;
  // both run the same logger, security headers, router, limiter peek and views.
  const dbApp = createApp().app;
  const memoryApp = express();
  // Compiled templates are cached as in production (NODE_ENV=production turns this on).
  dbApp.enable('view cache');
  memoryApp.enable('view cache');
  memoryApp.disable('x-powered-by');
  setupViews(memoryApp);
  memoryApp.use(httpLogger, cspNonce, securityHeaders);
  memoryApp.use('/p', createPortalRouter({ source: memorySource, missLimiter: portalMissLimiter }));

  const listen = (app: ReturnType<typeof express>) =>
    new Promise<number>((resolve) => {
      const server = app.listen(0, '127.0.0.1', () => {
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
      server.keepAliveTimeout = 65_000;
    });
  const [dbPort, memoryPort] = await Promise.all([listen(dbApp), listen(memoryApp)]);
  process.on('message', (msg: ToChild) => {
    if (msg.type === 'count') process.send!({ type: 'count', queries } satisfies FromChild);
    if (msg.type === 'stop') process.exit(0);
  });
  process.send!({ type: 'ready', dbPort, memoryPort } satisfies FromChild);
}

// ------------------------------------------------------------------ load side (parent)

async function seed(): Promise<string> {
  await scratch.recreate();
  const { migrateLatest } = await import('../src/db/migrate.js');
  await migrateLatest(scratch.url);
  const { createOrganization } = await import('../src/orgs/service.js');
  const { withOrg } = await import('../src/db/tenancy.js');
  const { generatePortalLink } = await import('../src/portal/service.js');
  const { seedCustomerRecords } = await import('../test/portal/fixtures.js');
  const { closeDb, getDb } = await import('../src/db/knex.js');
  const { orgId, userId } = await createOrganization({
    name: 'Benchmark Gutters',
    plan: 'starter',
    owner: { name: 'Bench Owner', email: `bench-${process.pid}@example.test`, passwordHash: 'not-used' },
  });
  const leadId = await withOrg(orgId, async (db) => {
    await db('organizations').update({ phone: '+15555550100', email: 'office@bench.example', whatsapp_number: '+15555550101' });
    const [row] = await db('leads')
      .insert({ org_id: orgId, first_name: 'Sarah', last_name: 'Homeowner', address: '12 Maple Street' })
      .returning<{ id: string }[]>('id');
    return row.id;
  });
  await seedCustomerRecords(orgId, leadId, {
    proposals: 20, pendingProposals: 2, invoices: 50, openInvoices: 5, payments: 60, jobs: 40, upcomingJobs: 5,
  });
  const { link } = await withOrg(orgId, (db) => generatePortalLink(db, leadId, { type: 'user', userId }));
  // Planner statistics, as autovacuum keeps them in a live database: without
  // them freshly seeded tables are planned as if empty.
  await getDb().raw('analyze');
  await closeDb();
  return link.url.split('/p/')[1];
}

function ask(child: ChildProcess, msg: ToChild): Promise<FromChild> {
  return new Promise((resolve) => {
    child.once('message', (reply: FromChild) => resolve(reply));
    child.send(msg);
  });
}

async function queryCount(child: ChildProcess): Promise<number> {
  const reply = await ask(child, { type: 'count' });
  if (reply.type !== 'count') throw new Error('bench: unexpected reply');
  return reply.queries;
}

export async function runPortalBench(): Promise<PortalBenchRow[]> {
  const { default: autocannon } = await import('autocannon');
  const token = await seed();
  const self = fileURLToPath(import.meta.url);
  const child = fork(self, ['--serve', token], { execArgv: ['--import', 'tsx'], env: process.env });
  const ready = await new Promise<FromChild>((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  if (ready.type !== 'ready') throw new Error('bench: server did not start');

  const load = async (url: string, duration: number) => {
    const result = await autocannon({ url, connections: CONNECTIONS, duration, pipelining: 1 });
    return result;
  };

  const rows: PortalBenchRow[] = [];
  try {
    for (const tab of TABS) {
      const path = `/p/${token}/${tab}`;
      const dbUrl = `http://127.0.0.1:${ready.dbPort}${path}`;
      const memUrl = `http://127.0.0.1:${ready.memoryPort}${path}`;

      // Round trips of single views, one after another.
      let before = await queryCount(child);
      const single = 20;
      for (let i = 0; i < single; i++) {
        const res = await fetch(dbUrl);
        if (res.status !== 200) throw new Error(`bench: ${tab} answered ${res.status}`);
        await res.arrayBuffer();
      }
      const roundTripsPerView = ((await queryCount(child)) - before) / single;

      await load(dbUrl, 2); // warm-up
      before = await queryCount(child);
      const db = await load(dbUrl, DURATION);
      const roundTripsUnderLoad = ((await queryCount(child)) - before) / Math.max(1, db.requests.total);
      await load(memUrl, 2);
      const mem = await load(memUrl, DURATION);
      rows.push({
        tab,
        dbRps: db.requests.average,
        memoryRps: mem.requests.average,
        ratio: db.requests.average / mem.requests.average,
        dbP99Ms: db.latency.p99,
        memoryP99Ms: mem.latency.p99,
        roundTripsPerView,
        roundTripsUnderLoad,
        errors: db.errors + db.non2xx + mem.errors + mem.non2xx,
      });
    }
  } finally {
    child.send({ type: 'stop' } satisfies ToChild);
  }
  return rows;
}

function report(rows: PortalBenchRow[]): boolean {
  console.log(`portal bench: ${CONNECTIONS} connections, ${DURATION}s per run, 20 proposals / 50 invoices / 60 payments / 40 jobs`);
  console.log('tab        db req/s  mem req/s  ratio   db p99  mem p99  round trips/view (single, under load)  errors');
  let ok = true;
  for (const r of rows) {
    const pass = r.ratio >= 0.2 && r.dbP99Ms < 50 && r.roundTripsPerView <= 2 && r.roundTripsUnderLoad <= 2 && r.errors === 0;
    ok &&= pass;
    console.log(
      `${r.tab.padEnd(10)} ${r.dbRps.toFixed(0).padStart(8)}  ${r.memoryRps.toFixed(0).padStart(9)}  ${(r.ratio * 100).toFixed(1).padStart(5)}%` +
        `  ${String(r.dbP99Ms).padStart(4)} ms  ${String(r.memoryP99Ms).padStart(4)} ms  ${r.roundTripsPerView.toFixed(2).padStart(6)}, ${r.roundTripsUnderLoad.toFixed(2)}` +
        `${' '.repeat(27)}${r.errors}  ${pass ? 'PASS' : 'FAIL'}`,
    );
  }
  console.log('targets: ratio ≥ 20 %, db p99 < 50 ms, ≤ 2 round trips per view, no errors');
  console.log(JSON.stringify({ bench: 'portal', connections: CONNECTIONS, durationSeconds: DURATION, rows }));
  return ok;
}

const invokedDirectly = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly && process.argv[2] === '--serve') {
  serve(process.argv[3]).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else if (invokedDirectly) {
  runPortalBench()
    .then((rows) => {
      const ok = report(rows);
      process.exit(ok ? 0 : 1);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
