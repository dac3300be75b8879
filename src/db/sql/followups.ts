// Automatic follow-ups: the scheduler's one cross-org statement and the
// "next follow-up" of documents, both read from followup_schedule()
// (migrations/20261206000000_receipts_followups.ts), the one place that says
// which rule is due when.
import { PLAN_IDS, PLANS } from '../../plans.js';
import { FOLLOWUP_RULE_INFO, QUIET_FROM_HOUR, QUIET_UNTIL_HOUR, type FollowupRule } from '../../lib/followup-rules.js';
import Handlebars from 'handlebars';
import { formatLocale, languageOf, t, type Language } from '../../i18n/index.js';
import { brandedEmailHtml, brandingOfFacts, ORG_BRANDING_COLUMNS, type OrgBrandingFacts } from '../email-layout.js';
import { cachedFormatter } from '../../lib/intl.js';
import { formatMoney } from '../../lib/money.js';
import { withoutOrg, type Db } from '../tenancy.js';

/** The plans whose orgs get automatic follow-ups (src/plans.ts decides). */
function followupPlans(): string[] {
  return PLAN_IDS.filter((id) => PLANS[id].automaticFollowUps);
}

export interface ScheduledFollowup {
  delivery_id: string;
  org_id: string;
}

/**
 * Stores every follow-up due at `now` in every org as a pending outbox row, in
 * one statement: quiet hours, one message per customer per day and the
 * (rule, document, local day) key all hold in SQL. `link` is the portal-link
 * placeholder the send worker fills in.
 */
export async function scheduleDueFollowups(now: Date, link: string): Promise<ScheduledFollowup[]> {
  return withoutOrg(async (db) => {
    const { rows } = await db.raw<{ rows: ScheduledFollowup[] }>(
      'select delivery_id, org_id from schedule_followups(?::text[], ?::timestamptz, ?::integer, ?::integer, ?::text)',
      [followupPlans(), now.toISOString(), QUIET_FROM_HOUR, QUIET_UNTIL_HOUR, link],
    );
    // The rows are worded in each customer's language before this transaction commits.
    const byOrg = new Map<string, string[]>();
    for (const row of rows) {
      const ids = byOrg.get(row.org_id);
      if (ids) ids.push(row.delivery_id);
      else byOrg.set(row.org_id, [row.delivery_id]);
    }
    for (const [orgId, ids] of byOrg) await wordFollowups(db, orgId, ids, link);
    return rows;
  });
}

interface FollowupFacts extends OrgBrandingFacts {
  id: string;
  channel: 'email' | 'sms';
  rule: FollowupRule;
  document_kind: 'proposal' | 'invoice';
  first_name: string;
  language: Language | null;
  number: number;
  title: string | null;
  due_date: Date | string | null;
  owed_cents: string | number | null;
  currency: string | null;
}

export interface FollowupText {
  subject: string | null;
  text: string;
  html: string | null;
}

/** A follow-up's words (messages:followup) in the customer's language; `link` stands where the portal link goes. */
export function followupText(f: FollowupFacts, link: string): FollowupText {
  const lang = f.language ?? languageOf(f.locale);
  const locale = formatLocale(lang, f.locale);
  const due =
    f.due_date === null
      ? ''
      : cachedFormatter(
          `followup-due|${locale}`, // i18n-exempt: a cache key
          () => new Intl.DateTimeFormat(locale, { month: 'long', day: 'numeric', timeZone: 'UTC' }),
        ).format(new Date(f.due_date));
  const amount = f.owed_cents === null ? '' : formatMoney(Number(f.owed_cents), f.currency ?? 'USD', locale);
  const key = f.rule.startsWith('invoice_overdue') ? 'messages:followup.invoice_overdue' : `messages:followup.${f.rule}`;
  const sentence = (v: { first: string; org: string; title: string; link: string }) =>
    t(lang, key, { ...v, number: f.number, amount, due });
  const e = Handlebars.escapeExpression;
  const words = { first: f.first_name, org: f.org_name, title: f.title ?? '' };
  if (f.channel === 'sms') return { subject: null, text: sentence({ ...words, link }), html: null };
  const subject = t(lang, f.document_kind === 'proposal' ? 'messages:followup.subjectProposal' : 'messages:followup.subjectInvoice', {
    number: f.number,
    org: f.org_name,
  });
  // The email's sentence ends where the link goes (test/i18n/catalogue.test.ts holds every language to it):
  // its HTML ends there too, and the layout's button under it opens the link.
  const html = brandedEmailHtml({
    lang,
    subject,
    paragraphsHtml: [sentence({ first: e(words.first), org: e(words.org), title: e(words.title), link: '' }).trimEnd()],
    link,
    brand: brandingOfFacts(f),
  });
  return { subject, text: `${sentence({ ...words, link })}\n\n${f.org_name}`, html };
}

/** Words one org's new follow-ups, inside the scheduler's transaction (its rows seen through the org's own RLS). */
async function wordFollowups(db: Db, orgId: string, ids: string[], link: string): Promise<void> {
  await db.raw("select set_config('app.org_id', ?, true)", [orgId]);
  const { rows } = await db.raw<{ rows: FollowupFacts[] }>(
    `select d.id, d.channel, f.rule, d.context as document_kind, l.first_name, l.language, ${ORG_BRANDING_COLUMNS},
            coalesce(p.number, v.number) as number, p.title, v.due_date,
            v.total_cents - v.amount_paid_cents as owed_cents, v.currency
       from message_deliveries d
       join followup_sends f on f.org_id = d.org_id and f.delivery_id = d.id
       join leads l on l.org_id = d.org_id and l.id = d.lead_id
       join organizations o on o.id = d.org_id
       left join proposals p on d.context = 'proposal' and p.org_id = d.org_id and p.id = f.document_id
       left join invoices v on d.context = 'invoice' and v.org_id = d.org_id and v.id = f.document_id
      where d.id = any(?::uuid[])`,
    [ids],
  );
  // One statement per org, not one per row: a run can word a hundred thousand follow-ups (bench/followups.ts).
  const worded = rows.map((facts) => ({ id: facts.id, ...followupText(facts, link) }));
  await db.raw(
    `update message_deliveries d set subject = w.subject, body_text = w.text, body_html = w.html
       from jsonb_to_recordset(?::jsonb) as w(id uuid, subject text, text text, html text)
      where d.id = w.id`,
    [JSON.stringify(worded)],
  );
  await db.raw("select set_config('app.org_id', '', true)");
}

export interface NextFollowup {
  document_id: string;
  rule: FollowupRule;
  /** The earliest moment it can go out: its due time, moved out of quiet hours. */
  at: Date;
}

/** The next follow-up of each of these documents (of the current org), if any is coming. */
export async function nextFollowups(db: Db, documentIds: string[], now: Date = new Date()): Promise<Map<string, NextFollowup>> {
  if (documentIds.length === 0) return new Map();
  const { rows } = await db.raw<{ rows: NextFollowup[] }>(
    `select distinct on (s.document_id) s.document_id, s.rule, t.at
       from followup_schedule(?::text[]) s
       join organizations o on o.id = s.org_id
       cross join lateral (select greatest(s.due_at, ?::timestamptz) as base) b
       cross join lateral (select b.base at time zone o.time_zone as local) l
       cross join lateral (
         select case
           when extract(hour from l.local) < ? then (date_trunc('day', l.local) + make_interval(hours => ?)) at time zone o.time_zone
           when extract(hour from l.local) >= ? then (date_trunc('day', l.local) + interval '1 day' + make_interval(hours => ?)) at time zone o.time_zone
           else b.base end as at) t
      where s.document_id = any(?::uuid[]) and s.until_at > ?::timestamptz
      order by s.document_id, t.at`,
    [
      followupPlans(),
      now.toISOString(),
      QUIET_UNTIL_HOUR,
      QUIET_UNTIL_HOUR,
      QUIET_FROM_HOUR,
      QUIET_UNTIL_HOUR,
      documentIds,
      now.toISOString(),
    ],
  );
  return new Map(rows.map((r) => [r.document_id, r]));
}

export type FollowupStatus =
  | { state: 'next'; rule: FollowupRule; label: string; at: Date }
  | { state: 'paused' }
  | { state: 'none' }
  | { state: 'unavailable' }
  | { state: 'no_link'; rule: FollowupRule; label: string };

/** What a document page says about follow-ups: the next one, paused, none coming, or not on this plan. */
export async function followupStatus(
  db: Db,
  documentId: string,
  lead: { id: string; followups_paused_at?: Date | null },
): Promise<FollowupStatus> {
  const org = await db('organizations').first<{ plan: string }>('plan');
  if (!followupPlans().includes(org.plan)) return { state: 'unavailable' };
  if (lead.followups_paused_at) return { state: 'paused' };
  const next = (await nextFollowups(db, [documentId])).get(documentId);
  if (!next) return { state: 'none' };
  const label = FOLLOWUP_RULE_INFO[next.rule].short;
  // The scheduler sends only with a link that opens (schedule_followups(): not revoked, not expired).
  const link = await db('portal_links')
    .where({ lead_id: lead.id })
    .whereNull('revoked_at')
    .where((w) => {
      void w.whereNull('expires_at').orWhere('expires_at', '>', next.at);
    })
    .first<{ id: string } | undefined>('id');
  return link ? { state: 'next', rule: next.rule, label, at: next.at } : { state: 'no_link', rule: next.rule, label };
}
