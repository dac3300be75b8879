// Benchmark: portal tab pages for one customer with 20 proposals, 50 invoices,
// 60 payments and 40 jobs, at 50 connections (autocannon), served by the real app
// (Postgres) and, in the same run, by the same app whose one database call is
// answered from memory (each in its own process; the load comes from this one).
// Reports throughput, the DB/memory ratio (target ≥ 20 %), p99 (target < 50 ms)
// and database round trips per page view (target ≤ 2), counted by wrapping
// pg.Client#query in the server process.
//   node --import tsx bench/portal.ts
// Env: DATABASE_URL (server; a scratch database porchlight_bench_portal is
// recreated on it), REDIS_URL (default redis://127.0.0.1:6379), BENCH_DURATION
// (seconds per run, default 10), BENCH_CONNECTIONS (default 50), DATABASE_POOL_MAX (default 20).
import { scratchDatabase } from '../src/db/scratch.js';
import { fork, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
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
type FromChild = { type: 'ready'; port: number } | { type: 'count'; queries: number };

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

// ------------------------------------------------------------------ server side (children)

/**
 * One server process: the whole app as built for production. The "memory" one
 * answers the portal's single database call (portal_page()) from pages read
 * beforehand, so the two differ only by the database's share of a view.
 */
async function serve(mode: 'db' | 'memory', pagesFile: string): Promise<void> {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  let queries = 0;
  proto.query = function (this: unknown, ...args: unknown[]) {
    queries += 1;
    return original.apply(this, args);
  };
  if (mode === 'memory') {
    const pages = JSON.parse(await readFile(pagesFile, 'utf8')) as Record<string, unknown>;
    const { getDb } = await import('../src/db/knex.js');
    // knex.raw() delegates to its client's raw(); the client is an ordinary object.
    const client = getDb().client as { raw: (sql: string, bindings?: unknown[]) => unknown };
    const realRaw = client.raw.bind(client);
    // bindings: token hash, view, id, page, page size, payable statuses (src/db/portal-page.ts).
    client.raw = (sql: string, bindings?: unknown[]) =>
      sql.startsWith('select portal_page(')
        ? Promise.resolve({ rows: [{ page: pages[`${String(bindings?.[1])}|${String(bindings?.[3])}`] ?? null }] })
        : realRaw(sql, bindings);
  }
  const { createApp } = await import('../src/app.js');
  const { app } = createApp();
  // Compiled templates are cached as in production (NODE_ENV=production turns this on).
  app.enable('view cache');
  const port = await new Promise<number>((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
    server.keepAliveTimeout = 65_000;
  });
  process.on('message', (msg: ToChild) => {
    if (msg.type === 'count') process.send!({ type: 'count', queries } satisfies FromChild);
    if (msg.type === 'stop') process.exit(0);
  });
  process.send!({ type: 'ready', port } satisfies FromChild);
}

// ------------------------------------------------------------------ load side (parent)

/** Seeds the customer; returns its token and a file holding its pages as the database returns them. */
async function seed(): Promise<{ token: string; pagesFile: string }> {
  await scratch.recreate();
  const { migrateLatest } = await import('../src/db/migrate.js');
  await migrateLatest(scratch.url);
  const { createOrganization } = await import('../src/auth/commands.js');
  const { withOrg } = await import('../src/db/tenancy.js');
  const { generatePortalLink } = await import('../src/portal-links/commands.js');
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
    proposals: 20,
    pendingProposals: 2,
    invoices: 50,
    openInvoices: 5,
    payments: 60,
    jobs: 40,
    upcomingJobs: 5,
  });
  const { link } = await withOrg(orgId, (db) => generatePortalLink(db, leadId, { type: 'user', userId }));
  // Planner statistics, as autovacuum keeps them in a live database: without
  // them freshly seeded tables are planned as if empty.
  await getDb().raw('analyze');
  const token = link.url.split('/p/')[1];
  const { loadPortalPage } = await import('../src/db/portal-page.js');
  const { hashPortalToken } = await import('../src/portal-links/token.js');
  const pages: Record<string, unknown> = {};
  for (const tab of TABS)
    pages[`${tab}|1`] = await loadPortalPage(hashPortalToken(token), { kind: 'list', tab, page: 1 }, { device: null, ipHash: null });
  const pagesFile = path.join(os.tmpdir(), `porchlight-bench-portal-${process.pid}.json`);
  await writeFile(pagesFile, JSON.stringify(pages));
  await closeDb();
  return { token, pagesFile };
}

async function startServer(mode: 'db' | 'memory', pagesFile: string): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', mode, pagesFile], { execArgv: ['--import', 'tsx'], env: process.env });
  const ready = await new Promise<FromChild>((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`bench ${mode} server exited with ${code}`)));
  });
  if (ready.type !== 'ready') throw new Error('bench: server did not start');
  return { child, port: ready.port };
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
  const { token, pagesFile } = await seed();
  const { child, port: dbPort } = await startServer('db', pagesFile);
  const { child: memoryChild, port: memoryPort } = await startServer('memory', pagesFile);

  const load = async (url: string, duration: number) => {
    const result = await autocannon({ url, connections: CONNECTIONS, duration, pipelining: 1 });
    return result;
  };

  const rows: PortalBenchRow[] = [];
  try {
    for (const tab of TABS) {
      const pagePath = `/p/${token}/${tab}`;
      const dbUrl = `http://127.0.0.1:${dbPort}${pagePath}`;
      const memUrl = `http://127.0.0.1:${memoryPort}${pagePath}`;

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
    memoryChild.send({ type: 'stop' } satisfies ToChild);
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
  serve(process.argv[3] as 'db' | 'memory', process.argv[4]).catch((err: unknown) => {
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
