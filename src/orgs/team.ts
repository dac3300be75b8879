// Team members and invitations: owners invite staff by email and remove members.
import type { Db } from '../db/tenancy.js';
import { recordAudit, type Actor } from '../audit.js';
import { FormError, notFound } from '../http/errors.js';
import { newOneTimeToken } from '../auth/tokens.js';

export const INVITATION_DAYS = 7;

export interface Member {
  id: string;
  name: string;
  email: string;
  role: 'owner' | 'staff';
  created_at: Date;
  last_login_at: Date | null;
}

export interface PendingInvitation {
  id: string;
  email: string;
  role: 'owner' | 'staff';
  expires_at: Date;
  created_at: Date;
}

export async function listTeam(db: Db): Promise<{ members: Member[]; invitations: PendingInvitation[] }> {
  const [members, invitations] = await Promise.all([
    db('users').orderByRaw("role = 'owner' desc, lower(name), email").select<Member[]>('id', 'name', 'email', 'role', 'created_at', 'last_login_at'),
    db('invitations')
      .whereNull('accepted_at')
      .whereNull('revoked_at')
      .where('expires_at', '>', db.fn.now())
      .orderBy('created_at', 'desc')
      .select<PendingInvitation[]>('id', 'email', 'role', 'expires_at', 'created_at'),
  ]);
  return { members, invitations };
}

export interface CreatedInvitation {
  id: string;
  token: string;
  expiresAt: Date;
}

/**
 * Creates a one-time invitation for a staff member. A pending invitation to the
 * same address is replaced, so only the newest link works.
 */
export async function inviteMember(db: Db, input: { orgId: string; email: string; invitedBy: string; actor: Actor }): Promise<CreatedInvitation> {
  const { rows } = await db.raw<{ rows: { taken: boolean }[] }>('select auth_email_taken(?) as taken', [input.email]);
  if (rows[0].taken) {
    throw new FormError({ email: 'This email already has a Porchlight account. Each person belongs to one business; ask them to use another email.' });
  }
  await db('invitations')
    .where({ email: input.email })
    .whereNull('accepted_at')
    .whereNull('revoked_at')
    .update({ revoked_at: db.fn.now() });
  const { token, sha256 } = newOneTimeToken();
  const [row] = await db('invitations')
    .insert({
      org_id: input.orgId,
      email: input.email,
      role: 'staff',
      token_sha256: sha256,
      invited_by: input.invitedBy,
      expires_at: db.raw(`now() + interval '${INVITATION_DAYS} days'`),
    })
    .returning<{ id: string; expires_at: Date }[]>(['id', 'expires_at']);
  await recordAudit(db, { actor: input.actor, action: 'invitation.created', subjectType: 'invitation', subjectId: row.id, data: { email: input.email, role: 'staff' } });
  return { id: row.id, token, expiresAt: row.expires_at };
}

export async function revokeInvitation(db: Db, invitationId: string, actor: Actor): Promise<void> {
  const [row] = await db('invitations')
    .where({ id: invitationId })
    .whereNull('accepted_at')
    .whereNull('revoked_at')
    .update({ revoked_at: db.fn.now() })
    .returning<{ id: string; email: string }[]>(['id', 'email']);
  if (!row) throw notFound('That invitation doesn’t exist or was already used.');
  await recordAudit(db, { actor, action: 'invitation.revoked', subjectType: 'invitation', subjectId: row.id, data: { email: row.email } });
}

/** Removes a member; the last owner stays, so the business is never left without one. */
export async function removeMember(db: Db, userId: string, actor: Actor): Promise<Member> {
  // Lock the owners first: two owners removing each other at once can't both succeed.
  const owners = await db('users').where({ role: 'owner' }).forUpdate().select<{ id: string }[]>('id');
  const member = await db('users').where({ id: userId }).first<Member | undefined>('id', 'name', 'email', 'role', 'created_at', 'last_login_at');
  if (!member) throw notFound('That team member doesn’t exist.');
  if (member.role === 'owner' && owners.length <= 1) {
    throw new FormError({ _form: `${member.name} is the only owner, so they can’t be removed. Make someone else an owner first.` });
  }
  await db('users').where({ id: userId }).delete();
  await recordAudit(db, { actor, action: 'user.removed', subjectType: 'user', subjectId: userId, data: { email: member.email, role: member.role } });
  return member;
}

/** Owners may make a staff member an owner or back; the last owner keeps the role. */
export async function changeRole(db: Db, userId: string, role: 'owner' | 'staff', actor: Actor): Promise<Member> {
  const owners = await db('users').where({ role: 'owner' }).forUpdate().select<{ id: string }[]>('id');
  const member = await db('users').where({ id: userId }).first<Member | undefined>('id', 'name', 'email', 'role', 'created_at', 'last_login_at');
  if (!member) throw notFound('That team member doesn’t exist.');
  if (member.role === role) return member;
  if (member.role === 'owner' && owners.length <= 1) {
    throw new FormError({ _form: `${member.name} is the only owner. Make someone else an owner first.` });
  }
  await db('users').where({ id: userId }).update({ role });
  await recordAudit(db, { actor, action: 'user.role_changed', subjectType: 'user', subjectId: userId, data: { from: member.role, to: role } });
  return { ...member, role };
}
