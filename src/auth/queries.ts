// Reading accounts: one-time links (invitations, password resets) and the team.
import { withOrg, type Db } from '../db/tenancy.js';
import type { UserRole } from '../db/rows.js';
import { invitationByTokenHash, passwordResetByTokenHash } from '../db/lookups.js';
import { sha256Hex, TOKEN_PATTERN } from '../lib/tokens.js';

export interface Member {
  id: string;
  name: string;
  email: string;
  role: UserRole;
  created_at: Date;
  last_login_at: Date | null;
}

export interface PendingInvitation {
  id: string;
  email: string;
  role: UserRole;
  expires_at: Date;
  created_at: Date;
}

export async function listTeam(db: Db): Promise<{ members: Member[]; invitations: PendingInvitation[] }> {
  const members = await db('users')
    .orderBy([{ column: 'role', order: 'asc' }, { column: 'name' }, { column: 'email' }])
    .select<Member[]>('id', 'name', 'email', 'role', 'created_at', 'last_login_at');
  const invitations = await db('invitations')
    .whereNull('accepted_at')
    .whereNull('revoked_at')
    .where('expires_at', '>', db.fn.now())
    .orderBy('created_at', 'desc')
    .select<PendingInvitation[]>('id', 'email', 'role', 'expires_at', 'created_at');
  // Owners first, then by name without regard to case.
  members.sort(
    (a, b) =>
      Number(b.role === 'owner') - Number(a.role === 'owner') ||
      a.name.toLowerCase().localeCompare(b.name.toLowerCase()) ||
      a.email.localeCompare(b.email),
  );
  return { members, invitations };
}

export interface InvitationView {
  invitationId: string;
  orgId: string;
  orgName: string;
  email: string;
  role: UserRole;
  inviterName: string | null;
}

interface InvitationRow {
  id: string;
  email: string;
  role: UserRole;
  expires_at: Date;
  accepted_at: Date | null;
  revoked_at: Date | null;
  invited_by: string;
}

function invitationProblem(row: InvitationRow): LinkProblem | null {
  if (row.accepted_at) return 'used';
  if (row.revoked_at) return 'revoked';
  if (row.expires_at.getTime() <= Date.now()) return 'expired';
  return null;
}

/** The invitation behind a link, or UnusableLinkError saying why it can't be used. */
export async function findInvitation(token: string): Promise<InvitationView> {
  const found = await invitationOrg(token);
  if (!found) throw new UnusableLinkError('unknown');
  return withOrg(found.orgId, async (db) => {
    const row = await db('invitations as i') // i18n-exempt: SQL aliases
      .join('organizations as o', 'o.id', 'i.org_id') // i18n-exempt: SQL aliases
      .leftJoin('users as u', 'u.id', 'i.invited_by') // i18n-exempt: SQL aliases
      .where('i.id', found.invitationId)
      .first<(InvitationRow & { org_name: string; inviter_name: string | null }) | undefined>(
        'i.*',
        'o.name as org_name', // i18n-exempt: SQL aliases
        'u.name as inviter_name', // i18n-exempt: SQL aliases
      );
    if (!row) throw new UnusableLinkError('unknown');
    const problem = invitationProblem(row);
    if (problem) throw new UnusableLinkError(problem);
    return {
      invitationId: row.id,
      orgId: found.orgId,
      orgName: row.org_name,
      email: row.email,
      role: row.role,
      inviterName: row.inviter_name,
    };
  });
}

/** The reset behind a link when it can still be used; UnusableLinkError otherwise. */
export async function checkPasswordReset(token: string): Promise<{ resetId: string; orgId: string }> {
  const found = await resetOrg(token);
  if (!found) throw new UnusableLinkError('unknown');
  await withOrg(found.orgId, async (db) => {
    const row = await db('password_resets')
      .where({ id: found.resetId })
      .first<{ expires_at: Date; used_at: Date | null } | undefined>('expires_at', 'used_at');
    if (!row) throw new UnusableLinkError('unknown');
    if (row.used_at) throw new UnusableLinkError('used');
    if (row.expires_at.getTime() <= Date.now()) throw new UnusableLinkError('expired');
  });
  return found;
}

export type LinkProblem = 'unknown' | 'expired' | 'used' | 'revoked';

/** A one-time link that can't be used; the page says why. */
export class UnusableLinkError extends Error {
  constructor(public readonly problem: LinkProblem) {
    super(`link ${problem}`);
    this.name = 'UnusableLinkError';
  }
}

/** The org an invitation link belongs to, or undefined for a link that never existed. */
async function invitationOrg(token: string): Promise<{ invitationId: string; orgId: string } | undefined> {
  if (!TOKEN_PATTERN.test(token)) return undefined;
  const found = await invitationByTokenHash(sha256Hex(token));
  return found ? { invitationId: found.invitation_id, orgId: found.org_id } : undefined;
}

/** The org a reset link belongs to, or undefined for a link that never existed. */
async function resetOrg(token: string): Promise<{ resetId: string; orgId: string } | undefined> {
  if (!TOKEN_PATTERN.test(token)) return undefined;
  const found = await passwordResetByTokenHash(sha256Hex(token));
  return found ? { resetId: found.reset_id, orgId: found.org_id } : undefined;
}
