// Audit trail: every change to tenant data records who did what, when.
import type { Db } from './db/tenancy.js';

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

export async function recordAudit(db: Db, input: AuditInput): Promise<void> {
  const { actor } = input;
  await db('audit_events').insert({
    org_id: db.raw("nullif(current_setting('app.org_id', true), '')::uuid"),
    actor_type: actor.type,
    actor_user_id: actor.type === 'user' ? actor.userId : null,
    actor_label: actor.label ?? null,
    action: input.action,
    subject_type: input.subjectType ?? null,
    subject_id: input.subjectId ?? null,
    data: JSON.stringify(input.data ?? {}),
    ip: 'ip' in actor ? (actor.ip ?? null) : null,
  });
}
