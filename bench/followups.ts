// Follow-up scheduler benchmark: 100,000 open documents across 1,000 Pro orgs
// (half proposals, half invoices; one customer each, every rule on, five time
// zones, every document due). One scheduler run must find and enqueue every due
// follow-up in under 30 s; a second run at the same moment must enqueue 0.
//
//   node --import tsx bench/followups.ts [--orgs 1000] [--per-org 100]
//
// Uses its own database (porchlight_bench_followups, recreated each time) on
// DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432). With
// REDIS_URL set, the jobs go to BullMQ under a private prefix that is removed
// afterwards; without it only the SQL side is measured (and said so).
import { cpus, loadavg } from 'node:os';
import { scratchDatabase } from '../src/db/scratch.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const ORGS = arg('orgs', 1000);
const PER_ORG = arg('per-org', 100);
const DB_NAME = 'porchlight_bench_followups';

const scratch = scratchDatabase(DB_NAME);
process.env.DATABASE_URL = scratch.url;
process.env.LOG_LEVEL ??= 'silent';
process.env.NODE_ENV ??= 'development';
process.env.QUEUE_PREFIX = `bench-followups-${process.pid}`;

async function main(): Promise<void> {
  await scratch.recreate();
  // Imported after the environment is set: config is read once at import.
  const { migrateLatest } = await import('../src/db/migrate.js');
  await migrateLatest(scratch.url);
  const { config } = await import('../src/config.js');
  const { getDb, closeDb } = await import('../src/db/knex.js');
  const { scheduleDueFollowups } = await import('../src/db/sql/followups.js');
  const { enqueueDeliveryJobs, getSendQueue, closeQueues } = await import('../src/queue/queues.js');
  const { PORTAL_LINK_PLACEHOLDER } = await import('../src/messaging/link-placeholder.js');
  const { FOLLOWUP_RULES, FOLLOWUP_RULE_INFO } = await import('../src/lib/followup-rules.js');

  // 18:00 UTC: inside waking hours in every zone used below (10:00 in Los Angeles, 18:00 in London).
  const now = new Date();
  now.setUTCHours(18, 0, 0, 0);
  const nowIso = now.toISOString();

  const db = getDb();
  const seedStart = performance.now();
  await db.raw(
    `insert into organizations (name, plan, time_zone)
     select 'Bench Co ' || n, 'pro',
            (array['America/New_York', 'America/Chicago', 'America/Denver', 'America/Los_Angeles', 'Europe/London'])[1 + n % 5]
       from generate_series(1, ?) n`,
    [ORGS],
  );
  await db.raw(
    `insert into followup_rules (org_id, rule, enabled, days)
     select o.id, r.rule, true, r.days from organizations o
      cross join (select * from jsonb_to_recordset(?::jsonb) as x(rule text, days integer)) r`,
    [JSON.stringify(FOLLOWUP_RULES.map((rule) => ({ rule, days: FOLLOWUP_RULE_INFO[rule].defaultDays })))],
  );
  // One customer per document, each with an email and an active portal link.
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
  // Quarter by quarter: proposals not opened, proposals opened but undecided, invoices due soon, invoices overdue (1/7/14 days).
  await db.raw(
    `with numbered as (
       select l.org_id, l.id as lead_id, row_number() over (partition by l.org_id order by l.id) as n from leads l)
     insert into proposals (org_id, lead_id, number, title, status, sent_at, subtotal_cents, total_cents)
     select org_id, lead_id, n, 'Bench proposal', 'pending',
            ?::timestamptz - case when n % 4 = 1 then interval '3 days 2 hours' else interval '5 days 2 hours' end, 50000, 50000
       from numbered where n % 4 in (1, 2)`,
    [nowIso],
  );
  await db.raw(
    `update portal_links l set last_viewed_at = p.sent_at + interval '1 hour', view_count = 1
       from proposals p where p.lead_id = l.lead_id and p.sent_at < ?::timestamptz - interval '5 days'`,
    [nowIso],
  );
  await db.raw(
    `with numbered as (
       select l.org_id, l.id as lead_id, o.time_zone, row_number() over (partition by l.org_id order by l.id) as n
         from leads l join organizations o on o.id = l.org_id)
     insert into invoices (org_id, lead_id, number, status, currency, issue_date, due_date, subtotal_cents, total_cents, issued_at)
     select org_id, lead_id, n, 'open', 'USD', d - 30, d, 30000, 30000, now()
       from (select *, (?::timestamptz at time zone time_zone)::date
                       + case when n % 4 = 3 then 3 else (array[-1, -7, -14])[1 + (n / 4) % 3] end as d
               from numbered where n % 4 in (0, 3)) x`,
    [nowIso],
  );
  await db.raw('analyze');
  const count = async (sql: string) => Number((await db.raw<{ rows: { n: string }[] }>(sql)).rows[0].n);
  const documents =
    (await count("select count(*) as n from proposals where status = 'pending'")) +
    (await count("select count(*) as n from invoices where status = 'open'"));
  console.log(`seeded ${ORGS} orgs, ${documents} open documents in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

  const withRedis = Boolean(config.redisUrl);
  const run = async () => {
    const t = performance.now();
    const scheduled = await scheduleDueFollowups(now, PORTAL_LINK_PLACEHOLDER);
    const sqlMs = performance.now() - t;
    const enqueued = withRedis ? await enqueueDeliveryJobs(scheduled.map((s) => ({ deliveryId: s.delivery_id, orgId: s.org_id }))) : 0;
    return { stored: scheduled.length, enqueued, sqlMs, totalMs: performance.now() - t };
  };

  const first = await run();
  console.log(
    `run 1: ${(first.totalMs / 1000).toFixed(2)} s — ${first.stored} follow-ups stored (SQL ${(first.sqlMs / 1000).toFixed(2)} s), ` +
      (withRedis ? `${first.enqueued} jobs enqueued` : 'REDIS_URL unset: nothing enqueued, SQL only'),
  );
  const second = await run();
  console.log(`run 2 (same moment): ${(second.totalMs / 1000).toFixed(2)} s — ${second.stored} stored, ${second.enqueued} enqueued`);

  const deliveries = await count("select count(*) as n from message_deliveries where purpose = 'followup'");
  const ok = first.stored === documents && deliveries === documents && (!withRedis || first.enqueued === documents) && second.stored === 0;
  console.log(
    `load average (1/5/15 min) on ${cpus().length} cores: ${loadavg()
      .map((n) => n.toFixed(1))
      .join(' / ')}`,
  );
  console.log(
    ok ? `OK: target < 30 s ${first.totalMs < 30_000 ? 'met' : 'MISSED'}` : `FAILED: ${deliveries} deliveries for ${documents} documents`,
  );

  if (withRedis) {
    await getSendQueue().obliterate({ force: true });
    await closeQueues();
  }
  await closeDb();
  process.exitCode = ok ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
