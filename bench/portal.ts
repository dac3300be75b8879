// Benchmark (issue 16): every portal tab and document page of a customer with 20
// proposals, 50 invoices, 60 payments and 40 jobs, served as deployed — the
// production build (`node dist/src/server.js`), NODE_ENV=production, `info`
// logs written (to a file), real Redis, connecting as a plain login role under
// row-level security — against, in the same run:
//   - bare Express in its own process sending the same bytes (the ceiling);
//   - the same deployed app whose one database call is answered from memory.
// The load (autocannon, 50 connections) comes from this process, never a server's;
// the three servers take turns of about BENCH_TURN seconds (default 2) under it.
// Reports, per page and run: req/s of each, app/bare (target ≥ 20 %),
// memory/bare (target ≥ 60 %), p99 of app vs bare (target ≤ 4×), and database
// round trips per view counted inside the app process (target ≤ 1).
//   npm run bench -- bench/portal.ts      (builds first: npm run build)
// Env: DATABASE_URL (server; a scratch database porchlight_bench_portal is
// recreated on it), REDIS_URL (default redis://127.0.0.1:6379), BENCH_RUNS
// (default 3), BENCH_DURATION (seconds per measurement, default 8, in turns of BENCH_TURN),
// BENCH_CONNECTIONS (default 50), BENCH_SKIP_BUILD=1 to reuse dist/, BENCH_PAGES
// (e.g. invoice,history: only those), BENCH_CPU_PROF=<dir> (CPU profiles of the three servers),
// BENCH_BARE_SERVER=web (bare Express served by the app's own web server, for comparison; the
// targets are against bare Express as `app.listen` serves it).
import { scratchDatabase } from '../src/db/scratch.js';
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Result as LoadResult } from 'autocannon';
import { pageKey } from './support/portal-page-key.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
/** Seconds of one turn: each server's measurement is taken in turns of about this long (BENCH_TURN). */
const TURN = Number(process.env.BENCH_TURN ?? 2);
/** Turns per measurement: BENCH_DURATION split into turns of about TURN seconds. */
const TURNS = Math.max(1, Math.round(DURATION / TURN));
/** BENCH_PAGES=invoice,history: measure only these pages. */
const ONLY = process.env.BENCH_PAGES?.split(',');
const WEB_ROLE = 'porchlight_bench_web';
const scratch = scratchDatabase('porchlight_bench_portal');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (file: string) => path.join(root, 'dist', file);

process.env.DATABASE_URL = scratch.url;
process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';
process.env.QUEUE_PREFIX ??= `bench-portal-${process.pid}`;
process.env.LOG_LEVEL ??= 'silent';
process.env.APP_SECRET ??= crypto.randomBytes(32).toString('hex');
process.env.PUBLIC_URL ??= 'https://porchlight.example';

type PageName = 'proposals' | 'invoices' | 'payments' | 'history' | 'proposal' | 'invoice';

interface Measure {
  rps: number;
  /** Requests completed. */
  total: number;
  /** The server process's CPU time per request (µs): what the ratio of req/s tends to on a machine shared with other work. */
  cpuMicrosPerRequest: number;
  queriesPerRequest: number;
  p99Ms: number;
  errors: number;
}

export interface PortalBenchRow {
  run: number;
  page: PageName;
  app: Measure;
  memory: Measure;
  bare: Measure;
  appRatio: number;
  memoryRatio: number;
  p99Ratio: number;
  roundTripsPerView: number;
  roundTripsUnderLoad: number;
  /** Queries under load beyond one per request counted and one per connection still in flight (target ≤ 0). */
  extraQueriesUnderLoad: number;
}

interface Seeded {
  paths: Record<PageName, string>;
  pagesFile: string;
  views: Record<PageName, { view: string; id?: string }>;
}

/** Seeds the customer and returns its page paths. */
async function seed(): Promise<Seeded> {
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
  const records = await seedCustomerRecords(orgId, leadId, {
    proposals: 20,
    pendingProposals: 2,
    invoices: 50,
    openInvoices: 5,
    payments: 60,
    jobs: 40,
    upcomingJobs: 5,
  });
  const { link } = await withOrg(orgId, (db) => generatePortalLink(db, leadId, { type: 'user', userId }));
  // The login role a deployed web process uses (README "Database roles"): not a superuser, no BYPASSRLS.
  await getDb().raw(`do $$ begin
      if not exists (select 1 from pg_roles where rolname = '${WEB_ROLE}') then
        create role ${WEB_ROLE} login nosuperuser nobypassrls inherit;
      end if;
    end $$`);
  await getDb().raw(`grant porchlight_app, porchlight_sessions to ${WEB_ROLE}`);
  // Planner statistics, as autovacuum keeps them in a live database.
  await getDb().raw('analyze');
  const token = link.url.split('/p/')[1];
  const proposalId = records.pendingProposalIds[0];
  const invoiceId = records.invoiceIds[records.invoiceIds.length - 1];
  const views: Seeded['views'] = {
    proposals: { view: 'proposals' },
    invoices: { view: 'invoices' },
    payments: { view: 'payments' },
    history: { view: 'history' },
    proposal: { view: 'proposal', id: proposalId },
    invoice: { view: 'invoice', id: invoiceId },
  };
  const paths: Seeded['paths'] = {
    proposals: `/p/${token}/proposals`,
    invoices: `/p/${token}/invoices`,
    payments: `/p/${token}/payments`,
    history: `/p/${token}/history`,
    proposal: `/p/${token}/proposals/${proposalId}`,
    invoice: `/p/${token}/invoices/${invoiceId}`,
  };
  // The memory app's answers: exactly what portal_page() returns, keyed as the preload looks them up.
  const { loadPortalPage } = await import('../src/db/portal-page.js');
  const { hashPortalToken } = await import('../src/portal-links/token.js');
  const pages: Record<string, unknown> = {};
  for (const { view, id } of Object.values(views)) {
    const portalView = id ? { kind: view as 'proposal' | 'invoice', id } : { kind: 'list' as const, tab: view as 'proposals', page: 1 };
    pages[pageKey([null, view, id ?? null, 1])] = await loadPortalPage(hashPortalToken(token), portalView, { device: null, ipHash: null });
  }
  const pagesFile = path.join(os.tmpdir(), `porchlight-bench-portal-${process.pid}.json`);
  await writeFile(pagesFile, JSON.stringify(pages));
  await closeDb();
  return { paths, pagesFile, views };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface Server {
  child: ChildProcess;
  port: number;
}

/** `node dist/src/server.js` as deployed; logs go to a file, as a platform collects stdout. */
async function startApp(mode: 'app' | 'memory', pagesFile: string): Promise<Server> {
  const port = await freePort();
  const logFile = path.join(os.tmpdir(), `porchlight-bench-portal-${mode}-${process.pid}.log`);
  const out = openSync(logFile, 'w');
  const url = new URL(scratch.url);
  url.username = WEB_ROLE;
  const child = fork(dist('src/server.js'), [], {
    execArgv: [
      '--import',
      pathToFileURL(dist('bench/support/portal-preload.js')).href,
      ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}/${mode}`] : []),
    ],
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      PORT: String(port),
      DATABASE_URL: url.href,
      REDIS_URL: process.env.REDIS_URL,
      QUEUE_PREFIX: process.env.QUEUE_PREFIX,
      APP_SECRET: process.env.APP_SECRET,
      PUBLIC_URL: process.env.PUBLIC_URL,
      ...(mode === 'memory' && { BENCH_PAGES_FILE: pagesFile }),
    },
    stdio: ['ignore', out, out, 'ipc'],
  });
  closeSync(out);
  await waitForHttp(child, `http://127.0.0.1:${port}/healthz`, logFile);
  return { child, port };
}

async function waitForHttp(child: ChildProcess, url: string, logFile: string): Promise<void> {
  const exit = { code: null as number | null };
  child.once('exit', (code) => (exit.code = code ?? -1));
  for (let i = 0; i < 300; i++) {
    if (exit.code !== null) throw new Error(`bench: the app exited with ${exit.code}; see ${logFile}`);
    const ok = await fetch(url).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`bench: the app did not answer within 30 s; see ${logFile}`);
}

async function startBare(pages: Record<string, { contentType: string; body: string }>): Promise<Server> {
  const file = path.join(os.tmpdir(), `porchlight-bench-portal-bare-${process.pid}.json`);
  await writeFile(file, JSON.stringify(pages));
  const child = fork(dist('bench/support/bare-express.js'), [], {
    execArgv: process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}/bare`] : [],
    env: { PATH: process.env.PATH, BENCH_BARE_FILE: file, BENCH_BARE_SERVER: process.env.BENCH_BARE_SERVER ?? '' },
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (msg: { port: number }) => resolve(msg.port));
    child.once('exit', (code) => reject(new Error(`bench: bare Express exited with ${code}`)));
  });
  return { child, port };
}

interface Counters {
  /** Database round trips so far. */
  queries: number;
  /** CPU time used so far (µs). */
  cpuMicros: number;
}

/** The value `share` of `values` are at or below (nearest rank); 0 for none. */
function percentile(values: number[], share: number): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.max(0, Math.ceil(share * sorted.length) - 1)];
}

function counters(child: ChildProcess): Promise<Counters> {
  return new Promise((resolve) => {
    child.once('message', (msg: Counters) => resolve(msg));
    child.send({ type: 'count' });
  });
}

export async function runPortalBench(): Promise<PortalBenchRow[]> {
  const { default: autocannon } = await import('autocannon');
  if (!process.env.BENCH_SKIP_BUILD) {
    const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) throw new Error('bench: npm run build failed');
  }
  const { paths, pagesFile } = await seed();
  const servers: Server[] = [];
  const rows: PortalBenchRow[] = [];
  try {
    const app = await startApp('app', pagesFile);
    servers.push(app);
    const memory = await startApp('memory', pagesFile);
    servers.push(memory);
    // The ceiling sends what the app sends for each page, byte for byte.
    const barePages: Record<string, { contentType: string; body: string }> = {};
    for (const pagePath of Object.values(paths)) {
      const res = await fetch(`http://127.0.0.1:${app.port}${pagePath}`);
      if (res.status !== 200) throw new Error(`bench: ${pagePath.replace(/\/p\/[^/]+/, '/p/[token]')} answered ${res.status}`);
      barePages[pagePath] = { contentType: res.headers.get('content-type') ?? 'text/html', body: await res.text() };
    }
    const bare = await startBare(barePages);
    servers.push(bare);

    /**
     * One stretch of load on one server: what autocannon saw, each 2xx answer's latency (ms,
     * added to `latencies`), and what the server counted meanwhile.
     */
    const slice = async (server: Server, pagePath: string, duration: number, latencies: number[] = []) => {
      const before = await counters(server.child);
      const result = await new Promise<LoadResult>((resolve, reject) => {
        const run = autocannon(
          { url: `http://127.0.0.1:${server.port}${pagePath}`, connections: CONNECTIONS, duration, pipelining: 1 },
          (err: unknown, done) =>
            err ? reject(err instanceof Error ? err : new Error('bench: autocannon failed', { cause: err })) : resolve(done),
        );
        run.on('response', (_client, status: number, _bytes, ms: number) => {
          if (status >= 200 && status < 300) latencies.push(ms);
        });
      });
      const after = await counters(server.child);
      return { result, cpuMicros: after.cpuMicros - before.cpuMicros, queries: after.queries - before.queries };
    };
    /**
     * The three servers measured in turns (bare, app, memory, then again) rather than one
     * after another: this machine's speed changes within seconds, and taking turns shares
     * what it does out between the three instead of handing it to whichever ran then.
     * A measure is the sum of its server's turns: requests over time, CPU and queries per
     * request, and the p99 of every answer's latency in all of them.
     */
    const measureInTurns = async (servers: Server[], pagePath: string): Promise<Measure[]> => {
      const sums = servers.map(() => ({ total: 0, seconds: 0, latencies: [] as number[], errors: 0, cpuMicros: 0, queries: 0 }));
      for (let turn = 0; turn < TURNS; turn++) {
        for (const [i, server] of servers.entries()) {
          const sum = sums[i];
          const { result, cpuMicros, queries } = await slice(server, pagePath, DURATION / TURNS, sum.latencies);
          sum.total += result.requests.total;
          sum.seconds += result.duration;
          sum.errors += result.errors + result.non2xx;
          sum.cpuMicros += cpuMicros;
          sum.queries += queries;
        }
      }
      return sums.map((sum) => ({
        rps: sum.total / sum.seconds,
        total: sum.total,
        p99Ms: percentile(sum.latencies, 0.99),
        errors: sum.errors,
        cpuMicrosPerRequest: sum.cpuMicros / Math.max(1, sum.total),
        queriesPerRequest: sum.queries / Math.max(1, sum.total),
      }));
    };

    for (let run = 1; run <= RUNS; run++) {
      for (const [page, pagePath] of Object.entries(paths) as [PageName, string][]) {
        if (ONLY && !ONLY.includes(page)) continue;
        // Round trips of single views, one after another.
        const before = await counters(app.child);
        const single = 20;
        for (let i = 0; i < single; i++) await (await fetch(`http://127.0.0.1:${app.port}${pagePath}`)).arrayBuffer();
        const roundTripsPerView = ((await counters(app.child)).queries - before.queries) / single;

        for (const [server, seconds] of [
          [bare, 1],
          [app, 2],
          [memory, 2],
        ] as const)
          await slice(server, pagePath, seconds); // warm-ups
        const [bareResult, appResult, memoryResult] = await measureInTurns([bare, app, memory], pagePath);
        const row: PortalBenchRow = {
          run,
          page,
          app: appResult,
          memory: memoryResult,
          bare: bareResult,
          appRatio: appResult.rps / bareResult.rps,
          memoryRatio: memoryResult.rps / bareResult.rps,
          p99Ratio: appResult.p99Ms / Math.max(1, bareResult.p99Ms),
          roundTripsPerView,
          roundTripsUnderLoad: appResult.queriesPerRequest,
          // Up to one request per connection is still in flight when autocannon stops counting (in each turn):
          // the server saw it, the count didn't.
          extraQueriesUnderLoad: Math.round(appResult.queriesPerRequest * appResult.total) - appResult.total - CONNECTIONS * TURNS,
        };
        rows.push(row);
        printRow(row);
      }
    }
  } finally {
    for (const server of servers) server.child.kill('SIGTERM');
  }
  return rows;
}

function passes(r: PortalBenchRow): boolean {
  const errors = r.app.errors + r.memory.errors + r.bare.errors;
  return (
    r.appRatio >= 0.2 && r.memoryRatio >= 0.6 && r.p99Ratio <= 4 && r.roundTripsPerView <= 1 && r.extraQueriesUnderLoad <= 0 && errors === 0
  );
}

function printRow(r: PortalBenchRow): void {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`.padStart(6);
  console.log(
    `${String(r.run).padStart(3)}  ${r.page.padEnd(9)} ${r.bare.rps.toFixed(0).padStart(6)} ${r.app.rps.toFixed(0).padStart(6)} ${r.memory.rps.toFixed(0).padStart(6)}` +
      `  ${pct(r.appRatio)} ${pct(r.memoryRatio)}   ${r.bare.p99Ms.toFixed(0).padStart(4)} ${r.app.p99Ms.toFixed(0).padStart(4)} ms ${r.p99Ratio.toFixed(1).padStart(4)}×` +
      `   ${r.roundTripsPerView.toFixed(2)} ${r.roundTripsUnderLoad.toFixed(2)}  ${r.app.errors + r.memory.errors + r.bare.errors}` +
      `   ${[r.bare, r.app, r.memory].map((m) => m.cpuMicrosPerRequest.toFixed(0).padStart(5)).join(' ')}  ${passes(r) ? 'PASS' : 'FAIL'}`,
  );
}

const invokedDirectly = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  console.log(
    `portal bench: ${os.cpus().length} cores, ${CONNECTIONS} connections, ${DURATION} s per measurement, ${RUNS} runs; ` +
      '20 proposals / 50 invoices / 60 payments / 40 jobs; app = production build, info logs, real Redis, Postgres',
  );
  console.log(
    'run  page        bare    app    mem   app/bare mem/bare  p99: bare  app     ratio   trips/view  errors   cpu µs/req: bare app mem',
  );
  runPortalBench()
    .then((rows) => {
      console.log('targets: app/bare ≥ 20 %, memory/bare ≥ 60 %, app p99 ≤ 4 × bare p99, ≤ 1 round trip per view, no errors');
      console.log(JSON.stringify({ bench: 'portal', cores: os.cpus().length, connections: CONNECTIONS, durationSeconds: DURATION, rows }));
      process.exit(rows.every(passes) ? 0 : 1);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
