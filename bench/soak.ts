// Soak: SOAK_SECONDS (default 600 = 10 minutes) of bounded portal and dashboard
// load (autocannon, local only) against a real web process built as production
// runs it (NODE_ENV=production, Redis-backed rate limits, Postgres sessions).
// Reports errors and the web process's resident memory (RSS, from /proc) over
// time. The baseline is the median RSS of the minute after the warm-up, measured
// in the same run; the figure is the growth of the last minute's median over it
// (target < 10 %).
//   node --import tsx bench/soak.ts
// Env: DATABASE_URL (server; a scratch database porchlight_bench_soak is
// recreated on it), REDIS_URL (default redis://127.0.0.1:6379), SOAK_SECONDS
// (default 600), SOAK_WARMUP_SECONDS (default 60), SOAK_PORTAL_RATE and
// SOAK_DASHBOARD_RATE (requests/s, default 40 and 20).
import { scratchDatabase } from '../src/db/scratch.js';
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { freePort, stopChild, waitForLine } from '../test/support/processes.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const WARMUP = Number(process.env.SOAK_WARMUP_SECONDS ?? Math.min(60, Math.round(SECONDS / 5)));
const PORTAL_RATE = Number(process.env.SOAK_PORTAL_RATE ?? 40);
const DASHBOARD_RATE = Number(process.env.SOAK_DASHBOARD_RATE ?? 20);
const SAMPLE_MS = 5_000;
const scratch = scratchDatabase('porchlight_bench_soak');

process.env.DATABASE_URL = scratch.url;
process.env.REDIS_URL ??= 'redis://127.0.0.1:6379';
process.env.QUEUE_PREFIX = `bench-soak-${process.pid}`;
process.env.LOG_LEVEL ??= 'silent';
process.env.PUBLIC_URL ??= 'https://porchlight.example';
process.env.APP_SECRET ??= crypto.randomBytes(32).toString('hex');

async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;

async function main(): Promise<void> {
  await scratch.recreate();
  const { migrateLatest } = await import('../src/db/migrate.js');
  await migrateLatest(scratch.url);
  const { seedDemo, DEMO_EMAIL, DEMO_PASSWORD } = await import('../src/dev/seed.js');
  const { withOrg } = await import('../src/db/tenancy.js');
  const { authUserByEmail } = await import('../src/db/lookups.js');
  const { generatePortalLink } = await import('../src/portal-links/commands.js');
  const { closeDb } = await import('../src/db/knex.js');
  await seedDemo();
  // The demo org's customers, a portal link for one with records on every tab, and the owner.
  const found = await authUserByEmail(DEMO_EMAIL);
  if (!found) throw new Error('the demo owner was not seeded');
  const owner = { id: found.user_id, org_id: found.org_id };
  const { leadId, portalUrl } = await withOrg(owner.org_id, async (db) => {
    const lead = await db('invoices').first<{ lead_id: string }>('lead_id');
    const { link } = await generatePortalLink(db, lead.lead_id, { type: 'user', userId: owner.id });
    return { leadId: lead.lead_id, portalUrl: new URL(link.url) };
  });
  await closeDb();

  const port = await freePort();
  const web = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      TRUST_PROXY: 'true',
      LOG_LEVEL: 'warn',
      DATABASE_ALLOW_BYPASS_ROLE: 'true', // the bench connects as the local superuser
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const webLog: string[] = [];
  web.stderr.on('data', (c: Buffer) => webLog.push(c.toString()));
  web.stdout.on('data', (c: Buffer) => webLog.push(c.toString()));
  await waitForLine(web, /web listening|"level":30/, 60_000).catch(async () => {
    // LOG_LEVEL=warn hides the "listening" line: wait for /healthz instead.
    for (let i = 0; i < 120; i++) {
      if (
        await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        return;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`web process did not start:\n${webLog.join('')}`);
  });
  const base = `http://127.0.0.1:${port}`;
  const proxied = { 'x-forwarded-proto': 'https' }; // behind a TLS proxy, as deployed: session cookies are Secure

  // Log in as the demo owner (one session for the whole soak, as a user keeps a tab open).
  const cookieOf = (res: Response) => /porchlight\.sid=[^;]+/.exec(res.headers.get('set-cookie') ?? '')?.[0] ?? '';
  const loginPage = await fetch(`${base}/login`, { headers: proxied });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await loginPage.text())![1];
  const login = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { ...proxied, cookie: cookieOf(loginPage), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email: DEMO_EMAIL, password: DEMO_PASSWORD, _csrf: csrf }),
  });
  if (login.status !== 303) throw new Error(`login answered ${login.status}`);
  const cookie = cookieOf(login);

  const token = portalUrl.pathname.split('/')[2];
  const portalPaths = ['', '/proposals', '/invoices', '/payments', '/history'].map((p) => `/p/${token}${p}`);
  const dashboardPaths = ['/', '/customers', `/customers/${leadId}`, '/invoices', '/proposals', '/jobs', '/messages'];
  // Every path answers 200 before the soak starts: a non-2xx during it is a real error.
  for (const p of [...portalPaths, ...dashboardPaths]) {
    const res = await fetch(base + p, { headers: { ...proxied, cookie }, redirect: 'manual' });
    if (res.status !== 200) throw new Error(`${p.replace(token, '<token>')} answered ${res.status} before the soak`);
  }

  const samples: Array<{ t: number; kb: number }> = [];
  const started = Date.now();
  const sampler = setInterval(() => {
    void rssKb(web.pid!).then((kb) => samples.push({ t: (Date.now() - started) / 1000, kb }));
  }, SAMPLE_MS);
  samples.push({ t: 0, kb: await rssKb(web.pid!) });

  const load = (paths: string[], rate: number, headers: Record<string, string>) =>
    autocannon({
      url: base,
      connections: 10,
      overallRate: rate,
      duration: SECONDS,
      headers: { ...proxied, ...headers },
      requests: paths.map((path) => ({ method: 'GET' as const, path })),
    });
  process.stdout.write(
    `soak: ${SECONDS} s of portal (${PORTAL_RATE}/s, ${portalPaths.length} pages) and dashboard (${DASHBOARD_RATE}/s, ${dashboardPaths.length} pages) load; warm-up ${WARMUP} s\n`,
  );
  const [portal, dashboard] = await Promise.all([load(portalPaths, PORTAL_RATE, {}), load(dashboardPaths, DASHBOARD_RATE, { cookie })]);
  clearInterval(sampler);
  samples.push({ t: (Date.now() - started) / 1000, kb: await rssKb(web.pid!) });
  const logged = webLog.join(''); // during the soak only, not while stopping
  await stopChild(web);

  const afterWarmup = samples.filter((s) => s.t >= WARMUP);
  // RSS moves with garbage collection: compare medians of a minute, not single samples.
  const baseline = median(afterWarmup.filter((s) => s.t < WARMUP + 60).map((s) => s.kb));
  const lastMinute = samples.filter((s) => s.t >= samples[samples.length - 1].t - 60).map((s) => s.kb);
  const end = median(lastMinute);
  const peak = Math.max(...afterWarmup.map((s) => s.kb));
  const growth = (end - baseline) / baseline;
  const report = (name: string, r: autocannon.Result) =>
    `  ${name}: ${r.requests.total} requests (${r.requests.average.toFixed(1)}/s), 2xx ${r['2xx']}, non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}; ` +
    `latency p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms\n`;
  const errors = portal.non2xx + portal.errors + portal.timeouts + dashboard.non2xx + dashboard.errors + dashboard.timeouts;
  process.stdout.write(report('portal', portal) + report('dashboard', dashboard));
  process.stdout.write(
    `  web RSS: start ${mb(samples[0].kb)}, first minute after warm-up median ${mb(baseline)} (baseline), last minute median ${mb(end)}, peak ${mb(peak)}\n` +
      `  RSS growth after warm-up: ${(growth * 100).toFixed(1)} % = ${(end / baseline).toFixed(3)}× baseline (target < 10 %)\n` +
      `  RSS every minute: ${samples
        .filter((s, i) => i === 0 || Math.floor(s.t / 60) !== Math.floor(samples[i - 1].t / 60))
        .map((s) => `${Math.round(s.t)}s ${mb(s.kb)}`)
        .join(', ')}\n`,
  );
  const ok = errors === 0 && growth < 0.1;
  process.stdout.write(
    ok ? '  check: no errors, RSS growth < 10 % ✔\n' : `  check FAILED: ${errors} errors, growth ${(growth * 100).toFixed(1)} %\n`,
  );
  if (logged) process.stdout.write(`  web process warnings and errors during the soak:\n${logged.slice(0, 2000)}\n`);
  process.exitCode = ok ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
