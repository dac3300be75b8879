// Seams between follow-ups (20261206000000_receipts_followups.ts) and Reach
// (20261207000000_portal_link_expiry.ts, 20261207020000_portal_visits.ts):
//
// - "Opened" is now per document: a proposal counts as opened once the customer
//   opened that proposal itself after it was sent (proposals.first_viewed_at, which
//   portal_page() stamps), not when their link was viewed for anything at all.
// - The scheduler skips customers whose only link has expired (or will have by the
//   run's moment): such a follow-up would carry a dead link. It does not mint links;
//   the customer's page says the link expired and the contractor (or the customer's
//   "Send me my link again", which replaces an expired link) makes a fresh one.
//
// Both functions keep their signatures and are `create or replace`d with their
// bodies VERBATIM from 20261206000000 except the parts passed in below (the `seen`
// join; the portal_links join). down() puts the originals back. The scheduler is
// handed to its role again exactly as 20261206000000 does. Runs in one transaction.
import type { Knex } from 'knex';
import { config } from '../src/config.js';

const SCHEDULER_ROLE = 'porchlight_followups';

const HTML_ESCAPE = (expr: string) => `replace(replace(replace(replace(${expr}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;')`;

// ---- the parts that change ----
const SEEN_BY_LINK = `            -- opened: a view of the customer's portal link at or after the proposal was sent
            left join (select pl.org_id, pl.lead_id, max(pl.last_viewed_at) as viewed_at
                         from portal_links pl where pl.last_viewed_at is not null group by pl.org_id, pl.lead_id) seen
                   on seen.org_id = p.org_id and seen.lead_id = p.lead_id and seen.viewed_at >= p.sent_at`;
const SEEN_BY_DOCUMENT = `            -- opened: the customer opened this proposal in the portal at or after it was sent
            -- (portal_page() stamps proposals.first_viewed_at the first time it serves the proposal)
            cross join lateral (select case when p.first_viewed_at >= p.sent_at then p.first_viewed_at end as viewed_at) seen`;

const LINK_NOT_REVOKED = `        join portal_links pl on pl.org_id = f.org_id and pl.lead_id = f.lead_id and pl.revoked_at is null`;
const LINK_LIVE = `        join portal_links pl on pl.org_id = f.org_id and pl.lead_id = f.lead_id and pl.revoked_at is null
                             and (pl.expires_at is null or pl.expires_at > p_now)`;

const followupSchedule = (seenJoin: string) => `
    create or replace function followup_schedule(p_plans text[])
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
${seenJoin}
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
       where s.id is null $$`;

const scheduleFollowups = (linkJoin: string) => `
    create or replace function schedule_followups(p_plans text[], p_now timestamptz, p_quiet_from integer, p_quiet_until integer, p_link text)
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
${linkJoin}
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
    end $$`;

async function define(knex: Knex, seenJoin: string, linkJoin: string): Promise<void> {
  await knex.raw(followupSchedule(seenJoin));
  await knex.raw(scheduleFollowups(linkJoin));
  const signature = 'schedule_followups(text[], timestamptz, integer, integer, text)';
  // A non-superuser owner (README → Database roles) may hand a function to a role
  // only while that role may create in the schema: lent for this statement only.
  await knex.raw(`grant create on schema public to ${SCHEDULER_ROLE}`);
  await knex.raw(`alter function ${signature} owner to ${SCHEDULER_ROLE}`);
  await knex.raw(`revoke create on schema public from ${SCHEDULER_ROLE}`);
  await knex.raw(`revoke execute on function ${signature} from public`);
  await knex.raw(`grant execute on function ${signature} to ??`, [config.databaseAppRole]);
}

export async function up(knex: Knex): Promise<void> {
  await define(knex, SEEN_BY_DOCUMENT, LINK_LIVE);
}

export async function down(knex: Knex): Promise<void> {
  await define(knex, SEEN_BY_LINK, LINK_NOT_REVOKED);
}
