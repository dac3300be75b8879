// Issue #15 points 4 and 5: payment receipts and automatic follow-ups, both
// through the existing outbox (message_deliveries rows the send worker claims).
//
// Receipts: queue_payment_receipts() stores one delivery per recorded payment in
// the caller's transaction (runs as the caller, under row-level security). A
// unique index on (org_id, payment_id) for receipt rows makes "a payment
// recorded = one receipt queued" hold however often the payment is seen again.
//
// Follow-ups: followup_schedule() is the one place that says which follow-up
// each open document is due for and when (and what "opened" means); the
// dashboard reads it under the org's RLS, and schedule_followups() reads it
// across every org. That function is SECURITY DEFINER owned by a NOLOGIN role
// whose only rights are narrow per-table policies (like porchlight_lookup), so
// one set-based statement finds every due follow-up in every org. Its
// idempotency key is followup_sends (org, rule, document, local day), and
// (org, customer, local day) is unique too: at most one follow-up per customer
// per day even when two scheduler runs race. Runs in one transaction (knex default).
import type { Knex } from 'knex';
import { config } from '../src/config.js';
import { ensureRole, protectTenantTable } from '../src/db/rls.js';

const SCHEDULER_ROLE = 'porchlight_followups';

const RULES = [
  'proposal_not_opened',
  'proposal_not_decided',
  'invoice_due_soon',
  'invoice_overdue_1',
  'invoice_overdue_2',
  'invoice_overdue_3',
];
const RULE_CHECK = `rule in (${RULES.map((r) => `'${r}'`).join(', ')})`;

// What the scheduler role may do, table by table (nothing else).
const SCHEDULER_GRANTS: Array<[table: string, privileges: string, policy: 'select' | 'insert' | 'all']> = [
  ['organizations', 'select', 'select'],
  ['leads', 'select', 'select'],
  ['proposals', 'select', 'select'],
  ['invoices', 'select', 'select'],
  ['portal_links', 'select', 'select'],
  ['followup_rules', 'select', 'select'],
  ['followup_sends', 'select, insert', 'all'],
  ['message_deliveries', 'select, insert', 'all'],
  ['audit_events', 'insert', 'insert'],
];

const HTML_ESCAPE = (expr: string) => `replace(replace(replace(replace(${expr}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;')`;

export async function up(knex: Knex): Promise<void> {
  // ---- outbox rows know why they exist ----
  await knex.raw(`
    alter table message_deliveries
      add column purpose text not null default 'manual' check (purpose in ('manual', 'receipt', 'followup')),
      add column payment_id uuid,
      add constraint message_deliveries_receipt_payment check ((purpose = 'receipt') = (payment_id is not null))`);
  // Each payment's receipt is queued once.
  await knex.raw("create unique index message_deliveries_receipt_uq on message_deliveries (org_id, payment_id) where purpose = 'receipt'");

  // ---- follow-up settings, sends, and the per-customer pause ----
  await knex.raw(`
    create table followup_rules (
      org_id uuid not null references organizations(id) on delete cascade,
      rule text not null check (${RULE_CHECK}),
      enabled boolean not null default false,
      days integer not null check (days between 1 and 90),
      updated_by uuid,
      updated_at timestamptz not null default now(),
      primary key (org_id, rule)
    )`);
  await protectTenantTable(knex, 'followup_rules');

  await knex.raw(`
    create table followup_sends (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references organizations(id) on delete cascade,
      rule text not null check (${RULE_CHECK}),
      document_id uuid not null,
      lead_id uuid not null,
      local_day date not null,
      delivery_id uuid not null,
      created_at timestamptz not null default now(),
      -- the idempotency key: one send per rule, document and day (in the org's time zone);
      -- its column order also serves "was this rule already sent for this document"
      unique (org_id, document_id, rule, local_day),
      -- at most one follow-up per customer per day
      unique (org_id, lead_id, local_day)
      -- no foreign keys: rows are written only by schedule_followups() from existing
      -- documents and customers, 100,000 at a time, and an RI check per row doubled the cost
    )`);
  await protectTenantTable(knex, 'followup_sends');

  await knex.raw('alter table leads add column followups_paused_at timestamptz');

  // Documents the scheduler looks at.
  await knex.raw("create index proposals_awaiting_idx on proposals (org_id, sent_at) where status = 'pending' and sent_at is not null");
  await knex.raw("create index invoices_unpaid_idx on invoices (org_id, due_date) where status in ('open', 'partially_paid')");

  // ---- shared formatting ----
  // Plain scalar SQL (no SET clause) so the planner inlines them: the scheduler calls them 100,000s of times.
  await knex.raw(`
    create function porchlight_money(p_cents bigint, p_currency text) returns text
    language sql stable as $$
      select case p_currency when 'USD' then '$' when 'CAD' then 'CA$' when 'AUD' then 'A$' when 'EUR' then '€' when 'GBP' then '£'
                  else p_currency || ' ' end
             || to_char(p_cents / 100.0, 'FM999,999,999,990.00') $$`);

  // ---- receipts ----
  await knex.raw(`
    create function queue_payment_receipts(p_payment_ids uuid[]) returns setof uuid
    language sql volatile set search_path = pg_catalog, public, pg_temp as $$
      insert into message_deliveries (org_id, lead_id, channel, context, purpose, payment_id, to_address, subject, body_text, body_html, status)
      select y.org_id, y.lead_id,
             case when l.email is not null then 'email' else 'sms' end,
             'invoice', 'receipt', y.id, coalesce(l.email, l.phone),
             case when l.email is not null then 'Receipt from ' || o.name || ' — invoice #' || v.number end,
             case when l.email is not null then
               'Hi ' || l.first_name || E',\\n\\n' ||
               'Thank you: ' || o.name || ' received your payment of ' || porchlight_money(y.amount_cents, y.currency) ||
               ' for invoice #' || v.number || ' on ' || to_char(y.paid_at at time zone o.time_zone, 'FMMonth FMDD, YYYY') || E'.\\n' ||
               case when v.total_cents - v.amount_paid_cents > 0
                    then 'Still owed on this invoice: ' || porchlight_money(v.total_cents - v.amount_paid_cents, v.currency) || E'.\\n'
                    else E'This invoice is now paid in full.\\n' end ||
               E'\\nYour receipt is attached as a PDF.\\n\\n' || o.name ||
               coalesce(E'\\n' || o.phone, '') || coalesce(E'\\n' || o.email, '')
             else
               o.name || ': payment of ' || porchlight_money(y.amount_cents, y.currency) || ' received for invoice #' || v.number ||
               '. Thank you!'
             end,
             case when l.email is not null then
               '<p>Hi ' || ${HTML_ESCAPE('l.first_name')} || ',</p>' ||
               '<p>Thank you: ' || ${HTML_ESCAPE('o.name')} || ' received your payment of <strong>' ||
               porchlight_money(y.amount_cents, y.currency) || '</strong> for invoice #' || v.number || ' on ' ||
               to_char(y.paid_at at time zone o.time_zone, 'FMMonth FMDD, YYYY') || '.</p>' ||
               case when v.total_cents - v.amount_paid_cents > 0
                    then '<p>Still owed on this invoice: ' || porchlight_money(v.total_cents - v.amount_paid_cents, v.currency) || '.</p>'
                    else '<p>This invoice is now paid in full.</p>' end ||
               '<p>Your receipt is attached as a PDF.</p><p>' || ${HTML_ESCAPE('o.name')} ||
               coalesce('<br>' || o.phone, '') || coalesce('<br>' || ${HTML_ESCAPE('o.email')}, '') || '</p>'
             end,
             'pending'
        from payments y
        join leads l on l.org_id = y.org_id and l.id = y.lead_id
        join invoices v on v.org_id = y.org_id and v.id = y.invoice_id
        join organizations o on o.id = y.org_id
       where y.id = any(p_payment_ids) and y.kind = 'payment' and y.status = 'succeeded'
         and coalesce(l.email, l.phone) is not null
      on conflict (org_id, payment_id) where purpose = 'receipt' do nothing
      returning id $$`);

  // ---- follow-ups: what is due when (the one place) ----
  // "Opened" today: the customer's portal link was viewed after the proposal was
  // sent (portal_links.last_viewed_at; the portal counts views per link, not per
  // document). Switch the `seen` join to a per-document first-view time when one
  // is recorded.
  // A follow-up is sendable from due_at until until_at (three days, and never
  // after the due date for "due soon"): turning rules on doesn't flood customers
  // with reminders about long-gone dates.
  await knex.raw(`
    create function followup_schedule(p_plans text[])
    returns table (org_id uuid, rule text, document_kind text, document_id uuid, lead_id uuid,
                   due_at timestamptz, until_at timestamptz, priority integer)
    language sql stable rows 10000 set search_path = pg_catalog, public, pg_temp as $$
      select c.org_id, c.rule, c.document_kind, c.document_id, c.lead_id, c.due_at, c.until_at, c.priority
        from (
          select r.org_id, r.rule, 'proposal'::text as document_kind, p.id as document_id, p.lead_id,
                 p.sent_at + make_interval(days => r.days) as due_at,
                 p.sent_at + make_interval(days => r.days + 3) as until_at,
                 1 as priority
            from proposals p
            join organizations o on o.id = p.org_id and o.plan = any(p_plans)
            -- opened: a view of the customer's portal link at or after the proposal was sent
            left join (select pl.org_id, pl.lead_id, max(pl.last_viewed_at) as viewed_at
                         from portal_links pl where pl.last_viewed_at is not null group by pl.org_id, pl.lead_id) seen
                   on seen.org_id = p.org_id and seen.lead_id = p.lead_id and seen.viewed_at >= p.sent_at
            join followup_rules r on r.org_id = p.org_id and r.enabled
                 and r.rule = case when seen.viewed_at is null then 'proposal_not_opened' else 'proposal_not_decided' end
           where p.status = 'pending' and p.sent_at is not null
          union all
          select r.org_id, r.rule, 'invoice', v.id, v.lead_id,
                 (v.due_date + case when r.rule = 'invoice_due_soon' then -r.days else r.days end)::timestamp at time zone o.time_zone,
                 case when r.rule = 'invoice_due_soon'
                      then least((v.due_date - r.days + 3)::timestamp, (v.due_date + 1)::timestamp) at time zone o.time_zone
                      else (v.due_date + r.days + 3)::timestamp at time zone o.time_zone end,
                 case when r.rule = 'invoice_due_soon' then 2 else 0 end
            from invoices v
            join organizations o on o.id = v.org_id and o.plan = any(p_plans)
            join followup_rules r on r.org_id = v.org_id and r.enabled and r.rule like 'invoice\\_%'
           where v.status in ('open', 'partially_paid') and v.total_cents > v.amount_paid_cents
        ) c
        join leads l on l.org_id = c.org_id and l.id = c.lead_id and l.followups_paused_at is null
        left join followup_sends s on s.org_id = c.org_id and s.document_id = c.document_id and s.rule = c.rule
       where s.id is null $$`);

  // The customer-facing sentence of each rule (the portal link goes where the placeholder is).
  await knex.raw(`
    create function followup_sentence(p_rule text, p_first text, p_org text, p_number integer, p_title text,
                                      p_amount text, p_due date, p_link text)
    returns text language sql stable as $$
      select case p_rule
        when 'proposal_not_opened' then 'Hi ' || p_first || ', ' || p_org || ' sent you proposal #' || p_number || ' (' || p_title ||
             ') and wants to make sure it reached you. You can read it here: ' || p_link
        when 'proposal_not_decided' then 'Hi ' || p_first || ', just checking in on proposal #' || p_number || ' (' || p_title ||
             ') from ' || p_org || '. You can approve it or ask a question here: ' || p_link
        when 'invoice_due_soon' then 'Hi ' || p_first || ', a reminder from ' || p_org || ': invoice #' || p_number || ' for ' ||
             p_amount || ' is due on ' || to_char(p_due, 'FMMonth FMDD') || '. You can view and pay it here: ' || p_link
        else 'Hi ' || p_first || ', invoice #' || p_number || ' from ' || p_org || ' for ' || p_amount || ' was due on ' ||
             to_char(p_due, 'FMMonth FMDD') || ' and is now overdue. You can view and pay it here: ' || p_link
      end $$`);

  // ---- follow-ups: the scheduler (every org, set-based) ----
  // Step by step through a temporary table (analyzed), so each step is planned
  // with real row counts: joining data-modifying CTEs to each other is planned
  // as one row each and nested-loops at 100,000 rows.
  await knex.raw(`
    create function schedule_followups(p_plans text[], p_now timestamptz, p_quiet_from integer, p_quiet_until integer, p_link text)
    returns table (delivery_id uuid, org_id uuid)
    language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp as $$
    #variable_conflict use_column
    begin
      drop table if exists pg_temp.followups_due;
      create temp table followups_due on commit drop as
      with due as (
        select s.*, o.time_zone, o.name as org_name, (p_now at time zone o.time_zone) as local_now
          from followup_schedule(p_plans) s join organizations o on o.id = s.org_id
         where s.due_at <= p_now and p_now < s.until_at
      ),
      awake as (
        -- quiet hours in the org's own time zone (at time zone follows its DST rules)
        select d.*, d.local_now::date as local_day from due d
         where extract(hour from d.local_now) >= p_quiet_until and extract(hour from d.local_now) < p_quiet_from
      ),
      one_per_customer as (
        select distinct on (a.org_id, a.lead_id) a.* from awake a
         where not exists (select 1 from message_deliveries m
                            where m.org_id = a.org_id and m.lead_id = a.lead_id
                              and m.created_at >= (a.local_day::timestamp at time zone a.time_zone))
         order by a.org_id, a.lead_id, a.priority, a.due_at
      )
      select f.org_id, f.rule, f.document_kind, f.document_id, f.lead_id, f.local_day, gen_random_uuid() as new_id,
             case when l.email is not null then 'email' else 'sms' end as channel,
             coalesce(l.email, l.phone) as to_address, pl.id as link_id, l.first_name, f.org_name,
             coalesce(p.number, v.number) as number, p.title, v.due_date,
             porchlight_money(v.total_cents - v.amount_paid_cents, v.currency) as amount
        from one_per_customer f
        join leads l on l.org_id = f.org_id and l.id = f.lead_id
        join portal_links pl on pl.org_id = f.org_id and pl.lead_id = f.lead_id and pl.revoked_at is null
        left join proposals p on f.document_kind = 'proposal' and p.org_id = f.org_id and p.id = f.document_id
        left join invoices v on f.document_kind = 'invoice' and v.org_id = f.org_id and v.id = f.document_id
       where coalesce(l.email, l.phone) is not null;
      analyze pg_temp.followups_due;

      -- The idempotency key (rule, document, local day) and one per customer per day: a row another run
      -- stored first is skipped here, and only the rows this run claimed become messages.
      drop table if exists pg_temp.followups_claimed;
      create temp table followups_claimed (id uuid primary key) on commit drop;
      with claimed as (
        insert into followup_sends (org_id, rule, document_id, lead_id, local_day, delivery_id, created_at)
        select r.org_id, r.rule, r.document_id, r.lead_id, r.local_day, r.new_id, p_now from pg_temp.followups_due r
        on conflict do nothing
        returning followup_sends.delivery_id
      )
      insert into pg_temp.followups_claimed select c.delivery_id from claimed c;
      analyze pg_temp.followups_claimed;
      -- Rows another run claimed first are not this run's to send.
      delete from pg_temp.followups_due r where not exists (select 1 from pg_temp.followups_claimed c where c.id = r.new_id);

      insert into message_deliveries (id, org_id, lead_id, portal_link_id, channel, context, purpose, to_address,
                                      subject, body_text, body_html, status, created_at, updated_at)
      select r.new_id, r.org_id, r.lead_id, r.link_id, r.channel, r.document_kind, 'followup', r.to_address,
             case when r.channel = 'email' then
               case when r.document_kind = 'proposal' then 'Proposal #' || r.number || ' from ' || r.org_name
                    else 'Reminder: invoice #' || r.number || ' from ' || r.org_name end
             end,
             followup_sentence(r.rule, r.first_name, r.org_name, r.number, r.title, r.amount, r.due_date, p_link) ||
               case when r.channel = 'email' then E'\\n\\n' || r.org_name else '' end,
             case when r.channel = 'email' then
               '<p>' || followup_sentence(r.rule, ${HTML_ESCAPE('r.first_name')}, ${HTML_ESCAPE('r.org_name')}, r.number,
                                            ${HTML_ESCAPE('r.title')}, r.amount, r.due_date,
                                            '<a href="' || p_link || '">' || p_link || '</a>') ||
               '</p><p>' || ${HTML_ESCAPE('r.org_name')} || '</p>'
             end,
             'pending', p_now, now()
        from pg_temp.followups_due r;

      insert into audit_events (org_id, actor_type, actor_label, action, subject_type, subject_id, data)
      select r.org_id, 'system', 'follow-up scheduler', 'message.queued', 'lead', r.lead_id,
             jsonb_build_object('deliveryId', r.new_id, 'followup', r.rule, 'channel', r.channel, r.document_kind || 'Id', r.document_id)
        from pg_temp.followups_due r;

      return query select r.new_id, r.org_id from pg_temp.followups_due r;
    end $$`);

  // The scheduler's role: reads and inserts through its own policies, nothing else.
  await ensureRole(knex, SCHEDULER_ROLE);
  await knex.raw(`
    do $$ begin
      execute format('grant ${SCHEDULER_ROLE} to %I', current_user);
    exception when others then null;
    end $$`);
  await knex.raw(`grant usage on schema public to ${SCHEDULER_ROLE}`);
  for (const [table, privileges, policy] of SCHEDULER_GRANTS) {
    await knex.raw(`grant ${privileges} on ?? to ${SCHEDULER_ROLE}`, [table]);
    const clause = policy === 'insert' ? 'with check (true)' : policy === 'all' ? 'using (true) with check (true)' : 'using (true)';
    await knex.raw(`create policy followup_scheduler on ?? for ${policy} to ${SCHEDULER_ROLE} ${clause}`, [table]);
  }
  const signature = 'schedule_followups(text[], timestamptz, integer, integer, text)';
  // A non-superuser owner (README → Database roles) may hand a function to a role
  // only while that role may create in the schema: lent for this statement only.
  await knex.raw(`grant create on schema public to ${SCHEDULER_ROLE}`);
  await knex.raw(`alter function ${signature} owner to ${SCHEDULER_ROLE}`);
  await knex.raw(`revoke create on schema public from ${SCHEDULER_ROLE}`);
  await knex.raw(`revoke execute on function ${signature} from public`);
  await knex.raw(`grant execute on function ${signature} to ??`, [config.databaseAppRole]);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function if exists schedule_followups(text[], timestamptz, integer, integer, text)');
  await knex.raw('drop function if exists followup_sentence(text, text, text, integer, text, text, date, text)');
  await knex.raw('drop function if exists followup_schedule(text[])');
  await knex.raw('drop function if exists queue_payment_receipts(uuid[])');
  await knex.raw('drop function if exists porchlight_money(bigint, text)');
  for (const [table] of SCHEDULER_GRANTS) {
    if (table === 'followup_rules' || table === 'followup_sends') continue;
    await knex.raw('drop policy if exists followup_scheduler on ??', [table]);
    await knex.raw(`revoke all on ?? from ${SCHEDULER_ROLE}`, [table]);
  }
  await knex.raw('drop index if exists invoices_unpaid_idx');
  await knex.raw('drop index if exists proposals_awaiting_idx');
  await knex.raw('alter table leads drop column if exists followups_paused_at');
  await knex.raw('drop table if exists followup_sends');
  await knex.raw('drop table if exists followup_rules');
  await knex.raw('drop index if exists message_deliveries_receipt_uq');
  await knex.raw(
    'alter table message_deliveries drop constraint if exists message_deliveries_receipt_payment, drop column if exists payment_id, drop column if exists purpose',
  );
}
