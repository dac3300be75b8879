// Automatic follow-ups: the scheduler's one cross-org statement and the
// "next follow-up" of documents, both read from followup_schedule()
// (migrations/20261206000000_receipts_followups.ts), the one place that says
// which rule is due when.
import { PLAN_IDS, PLANS } from '../../plans.js';
import { FOLLOWUP_RULE_INFO, QUIET_FROM_HOUR, QUIET_UNTIL_HOUR, type FollowupRule } from '../../lib/followup-rules.js';
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
    return rows;
  });
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
