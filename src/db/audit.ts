// Audit trail: every change to tenant data records who did what, when.
// auditRow() is the one builder of an audit_events row; recordAudit writes one,
// recordAudits many in one statement, and the SQL functions that batch work
// (messaging) receive rows built by it.
import { CURRENT_ORG, type Db } from './tenancy.js';

export type Actor =
  | { type: 'user'; userId: string; label?: string; ip?: string | null }
  | { type: 'customer'; label?: string; ip?: string | null }
  | { type: 'system' | 'stripe' | 'twilio'; label?: string };

export interface AuditInput {
  actor: Actor;
  action: string; // 'proposal.approved', 'portal_link.revoked', ...
  subjectType?: string;
  subjectId?: string;
  data?: Record<string, unknown>;
}

export interface AuditEventRow {
  actor_type: Actor['type'];
  actor_user_id: string | null;
  actor_label: string | null;
  action: string;
  subject_type: string | null;
  subject_id: string | null;
  data: Record<string, unknown>;
  ip: string | null;
}

/** The audit_events columns for one event (org_id aside: it is the transaction's org). */
export function auditRow(input: AuditInput): AuditEventRow {
  const { actor } = input;
  return {
    actor_type: actor.type,
    actor_user_id: actor.type === 'user' ? actor.userId : null,
    actor_label: actor.label ?? null,
    action: input.action,
    subject_type: input.subjectType ?? null,
    subject_id: input.subjectId ?? null,
    data: input.data ?? {},
    ip: 'ip' in actor ? (actor.ip ?? null) : null,
  };
}

export async function recordAudit(db: Db, input: AuditInput): Promise<void> {
  await recordAudits(db, [input]);
}

/** Many events in one statement, whatever their number (reconciliation records thousands of payments at once). */
export async function recordAudits(db: Db, inputs: AuditInput[]): Promise<void> {
  if (inputs.length === 0) return;
  await db.raw(
    `insert into audit_events (org_id, actor_type, actor_user_id, actor_label, action, subject_type, subject_id, data, ip)
     select ${CURRENT_ORG}, a.actor_type, a.actor_user_id, a.actor_label, a.action, a.subject_type, a.subject_id, coalesce(a.data, '{}'::jsonb), a.ip
       from jsonb_to_recordset(?::jsonb) as a(actor_type text, actor_user_id uuid, actor_label text, action text,
                                              subject_type text, subject_id uuid, data jsonb, ip inet)`,
    [JSON.stringify(inputs.map(auditRow))],
  );
}
