// 100,000 customers in one org: list and search latency (p50 / p99) through the
// real service (listLeads inside withOrg, as the app role under RLS) and through
// HTTP (GET /customers with a logged-in session).
//
// Uses its own database (BENCH_DATABASE_NAME, default porchlight_bench), dropped
// and re-created on each run.  Run: npm run bench -- bench/customers.ts
import { scratchDatabase } from '../src/db/scratch.js';

const scratch = scratchDatabase(process.env.BENCH_DATABASE_NAME ?? 'porchlight_bench');
process.env.DATABASE_URL = scratch.url;
process.env.NODE_ENV ??= 'test';
process.env.LOG_LEVEL ??= 'silent';
process.env.APP_SECRET ??= 'bench-secret-bench-secret-bench-secret-0123456789';
process.env.QUEUE_PREFIX ??= `bench-${process.pid}`;

const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function measure(fn: () => Promise<unknown>): Promise<{ p50: number; p99: number; max: number }> {
  for (let i = 0; i < 10; i++) await fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), max: times[times.length - 1] };
}

async function main(): Promise<void> {
  await scratch.recreate();
  const { migrateLatest } = await import('../src/db/migrate.js');
  await migrateLatest(scratch.url);
  const { getDb, closeDb } = await import('../src/db/knex.js');
  const { withOrg } = await import('../src/db/tenancy.js');
  const { listLeads } = await import('../src/leads/queries.js');
  const { hashPassword } = await import('../src/auth/passwords.js');
  const { createOrganization } = await import('../src/auth/commands.js');
  const { createApp } = await import('../src/app.js');
  const { closeStoreRedis } = await import('../src/queue/redis.js');
  const supertest = (await import('supertest')).default;

  const email = `bench-${Date.now()}@example.test`;
  const password = 'bench porch light password';
  const { orgId } = await createOrganization({
    name: 'Bench Co',
    owner: { name: 'Bench Owner', email, passwordHash: await hashPassword(password) },
  });
  const other = await createOrganization({ name: 'Other Co', owner: { name: 'Other', email: `other-${email}`, passwordHash: 'x' } });

  const seedStart = Date.now();
  const seed = (org: string, count: number) =>
    getDb().raw(
      `insert into leads (org_id, first_name, last_name, company, email, phone, address, stage, created_at)
       select ?,
         (array['James','Mary','John','Patricia','Robert','Jennifer','Michael','Linda','William','Elizabeth','David','Barbara','Ana','Wei','Priya'])[1 + i % 15],
         (array['Smith','Johnson','Williams','Brown','Jones','Garcia','Miller','Davis','Rodriguez','Martinez','Hernandez','Lopez','Nguyen','Wilson','Anderson','Okafor','Kowalski'])[1 + (i / 15) % 17] || case when i % 7 = 0 then '-' || i else '' end,
         case when i % 10 = 0 then 'Company ' || (i / 10) end,
         'customer' || i || '@example.com',
         '+1' || (2000000000 + i * 7)::text,
         i || ' ' || (array['Oak','Maple','Pine','Cedar','Elm','Birch','Walnut','Willow'])[1 + i % 8] || ' Street, Springfield',
         (array['new','contacted','proposal_sent','won','lost'])[1 + i % 5],
         now() - i * interval '37 seconds'
       from generate_series(1, ?) i`,
      [org, count],
    );
  await seed(orgId, CUSTOMERS);
  await seed(other.orgId, 20_000); // another tenant in the same table, as in production
  await getDb().raw('analyze leads');
  const seedMs = Date.now() - seedStart;

  // A cursor 90,000 rows deep, in the same form the list's "Older" link carries.
  const deepCursor = await withOrg(orgId, async (db) => {
    const { rows } = await db.raw<{ rows: { ts: string; id: string }[] }>(
      'select created_at::text as ts, id from leads order by created_at desc, id offset 90000 limit 1',
    );
    return Buffer.from(`${rows[0].ts}|${rows[0].id}`).toString('base64url');
  });

  const queries: { label: string; q: string; stage?: 'won'; after?: string }[] = [
    { label: 'first page (no search)', q: '' },
    { label: 'page at row 90,000 (keyset)', q: '', after: deepCursor },
    { label: 'stage filter "won"', q: '', stage: 'won' },
    { label: 'search common name "smith"', q: 'smith' },
    { label: 'search rare email "customer99991@"', q: 'customer99991@' },
    { label: 'search phone "(200) 069-9937"', q: '(200) 069-9937' },
    { label: 'search address "willow street"', q: 'willow street' },
    { label: 'search no match "zzqx"', q: 'zzqx' },
    { label: 'search 2 letters "ok"', q: 'ok' },
  ];

  const results: string[] = [];
  const line = (via: string, label: string, r: { p50: number; p99: number; max: number }, rows: number) =>
    `${via.padEnd(8)} ${label.padEnd(38)} rows ${String(rows).padStart(3)}  p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99.toFixed(2).padStart(6)} ms  max ${r.max.toFixed(1)} ms`;

  for (const query of queries) {
    const input = { q: query.q, stage: query.stage, after: query.after };
    const rows = (await withOrg(orgId, (db) => listLeads(db, input))).leads.length;
    const r = await measure(() => withOrg(orgId, (db) => listLeads(db, input)));
    results.push(line('service', query.label, r, rows));
  }

  const built = createApp();
  // As in production (Express enables it when NODE_ENV=production): compiled templates are kept.
  built.app.set('view cache', true);
  const server = built.app.listen(0);
  const agent = supertest.agent(server);
  const loginPage = await agent.get('/login');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(loginPage.text)?.[1];
  const login = await agent.post('/login').type('form').send({ email, password, _csrf: csrf });
  if (login.status !== 303) throw new Error(`bench login failed: ${login.status}`);
  for (const query of queries) {
    const params: Record<string, string> = { q: query.q };
    if (query.stage) params.stage = query.stage;
    if (query.after) params.after = query.after;
    const first = await agent.get('/customers').query(params);
    if (first.status !== 200) throw new Error(`GET /customers ${JSON.stringify(params)} → ${first.status}`);
    const rows = (first.text.match(/data-label="Name"/g) ?? []).length;
    const r = await measure(async () => {
      const res = await agent.get('/customers').query(params);
      if (res.status !== 200) throw new Error(`status ${res.status}`);
    });
    results.push(line('http', query.label, r, rows));
  }
  server.close();
  await built.close();

  process.stdout.write(
    `customers: ${CUSTOMERS.toLocaleString('en-US')} in one org (+20,000 in another), seeded in ${seedMs} ms; ${ROUNDS} rounds per query, sequential\n`,
  );
  for (const r of results) process.stdout.write(`${r}\n`);
  const worst = results.map((r) => Number(/p99\s+([\d.]+)/.exec(r)?.[1])).reduce((a, b) => Math.max(a, b), 0);
  process.stdout.write(`worst p99: ${worst.toFixed(2)} ms (target < 50 ms) ${worst < 50 ? 'OK' : 'OVER TARGET'}\n`);
  await closeStoreRedis();
  await closeDb();
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
