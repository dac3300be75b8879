// Automatic follow-ups (issue #15 point 5, Pro): each org's rules, and one
// scheduler run that stores every due follow-up in every org (one SQL statement,
// src/db/sql/followups.ts) and hands the new outbox rows to the send queue.
import { z } from 'zod';
import { config } from '../config.js';
import { recordAudit, type Actor } from '../db/audit.js';
import { scheduleDueFollowups } from '../db/sql/followups.js';
import { currentOrgId, type Db } from '../db/tenancy.js';
import { FOLLOWUP_RULE_INFO, FOLLOWUP_RULES, type FollowupRule } from '../lib/followup-rules.js';
import { logger } from '../logger.js';
import { PLAN_IDS, PLANS, planFor } from '../plans.js';
import { enqueueDeliveryJobs } from '../queue/queues.js';
import { PORTAL_LINK_PLACEHOLDER } from './link-placeholder.js';
import { dispatchDelivery } from './outbox.js';

export interface FollowupRuleSetting {
  rule: FollowupRule;
  enabled: boolean;
  days: number;
  label: string;
  document: 'proposal' | 'invoice';
}

/** The org's rules, every one listed (a rule never saved is off with its default days). */
export async function followupSettings(db: Db): Promise<FollowupRuleSetting[]> {
  const saved = new Map(
    (await db('followup_rules').select<{ rule: FollowupRule; enabled: boolean; days: number }[]>('rule', 'enabled', 'days')).map((r) => [
      r.rule,
      r,
    ]),
  );
  return FOLLOWUP_RULES.map((rule) => {
    const info = FOLLOWUP_RULE_INFO[rule];
    const row = saved.get(rule);
    return { rule, enabled: row?.enabled ?? false, days: row?.days ?? info.defaultDays, label: info.label, document: info.document };
  });
}

const daysField = z.coerce
  .number('messages:rules.days.number')
  .int('messages:rules.days.whole')
  .min(1, 'messages:rules.days.min')
  .max(90, 'messages:rules.days.max');

/** The settings form: `<rule>_enabled` checkboxes and `<rule>_days` numbers. */
export const followupRulesFormSchema = z.object(
  Object.fromEntries(
    FOLLOWUP_RULES.flatMap((rule) => [
      [`${rule}_enabled`, z.literal('on').optional()],
      [`${rule}_days`, daysField],
    ]),
  ) as Record<string, z.ZodType>,
);

export function rulesFromForm(form: Record<string, unknown>): { rule: FollowupRule; enabled: boolean; days: number }[] {
  return FOLLOWUP_RULES.map((rule) => ({ rule, enabled: form[`${rule}_enabled`] === 'on', days: Number(form[`${rule}_days`]) }));
}

/** Saves every rule at once (the writer of followup_rules). */
export async function saveFollowupRules(
  db: Db,
  rules: { rule: FollowupRule; enabled: boolean; days: number }[],
  actor: Actor,
): Promise<void> {
  await db('followup_rules')
    .insert(
      rules.map((r) => ({
        org_id: currentOrgId(db),
        rule: r.rule,
        enabled: r.enabled,
        days: r.days,
        updated_by: actor.type === 'user' ? actor.userId : null,
        updated_at: db.fn.now(),
      })),
    )
    .onConflict(['org_id', 'rule'])
    .merge(['enabled', 'days', 'updated_by', 'updated_at']);
  await recordAudit(db, {
    actor,
    // i18n-exempt: an audit action
    action: 'followup_rules.saved',
    data: { rules: Object.fromEntries(rules.map((r) => [r.rule, r.enabled ? r.days : null])) },
  });
}

/** Whether the org's plan includes follow-ups, and the plan that does (for the locked page). */
export function followupsPlan(planId: string): { available: boolean; requiredPlan: string } {
  const first = PLAN_IDS.find((id) => PLANS[id].automaticFollowUps);
  return { available: planFor(planId).automaticFollowUps, requiredPlan: first ? PLANS[first].name : 'Pro' };
}

export interface FollowupRunResult {
  queued: number;
  enqueued: number;
}

/**
 * One scheduler run: stores every due follow-up (all orgs) and hands them to the
 * send queue. Rows Redis doesn't take stay pending for the outbox sweeper.
 */
export async function runFollowupScheduler(now: Date = new Date()): Promise<FollowupRunResult> {
  const scheduled = await scheduleDueFollowups(now, PORTAL_LINK_PLACEHOLDER);
  const jobs = scheduled.map((s) => ({ deliveryId: s.delivery_id, orgId: s.org_id }));
  let enqueued = 0;
  if (config.redisUrl) enqueued = await enqueueDeliveryJobs(jobs);
  else for (const job of jobs) if (await dispatchDelivery(job)) enqueued += 1;
  if (jobs.length) logger.info({ queued: jobs.length, enqueued }, 'follow-ups queued');
  return { queued: jobs.length, enqueued };
}
