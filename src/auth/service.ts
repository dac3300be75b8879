// Contractor accounts: sign up, log in, accept an invitation, reset a password.
import { getDb } from '../db/knex.js';
import { withoutOrg, withOrg } from '../db/tenancy.js';
import { FormError } from '../http/errors.js';
import { createOrganization } from '../orgs/service.js';
import { recordAudit } from '../audit.js';
import { hashPassword, passwordWeakness, verifyPassword } from './passwords.js';
import type { AcceptInvitationInput, LogInInput, SignUpInput } from './schema.js';
import { newOneTimeToken, sha256Hex, TOKEN_PATTERN } from './tokens.js';

export interface SessionIdentity {
  userId: string;
  orgId: string;
}

const EMAIL_TAKEN = 'An account with this email already exists. Log in instead, or use another email.';

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === '23505';
}

export async function emailTaken(email: string): Promise<boolean> {
  return withoutOrg(async (db) => {
    const { rows } = await db.raw<{ rows: { taken: boolean }[] }>('select auth_email_taken(?) as taken', [email]);
    return rows[0].taken;
  });
}

/** Creates an organization and its owner; field errors leave nothing behind. */
export async function signUp(input: SignUpInput): Promise<SessionIdentity> {
  const weakness = await passwordWeakness(input.password, [input.email, input.name, input.orgName]);
  if (weakness) throw new FormError({ password: weakness });
  if (await emailTaken(input.email)) throw new FormError({ email: EMAIL_TAKEN });
  try {
    const { orgId, userId } = await createOrganization({
      name: input.orgName,
      owner: { name: input.name, email: input.email, passwordHash: await hashPassword(input.password) },
    });
    return { orgId, userId };
  } catch (err) {
    // Two sign-ups with one email at the same moment: the unique index decides.
    if (isUniqueViolation(err)) throw new FormError({ email: EMAIL_TAKEN });
    throw err;
  }
}

/** The identity for a correct email + password, or null (same time either way). */
export async function logIn(input: Pick<LogInInput, 'email' | 'password'>, ip?: string): Promise<SessionIdentity | null> {
  const found = await withoutOrg(async (db) => {
    const { rows } = await db.raw<{ rows: { user_id: string; org_id: string; password_hash: string }[] }>(
      'select * from auth_user_by_email(?)',
      [input.email],
    );
    return rows[0];
  });
  const ok = await verifyPassword(found?.password_hash ?? null, input.password);
  if (!found || !ok) return null;
  await withOrg(found.org_id, async (db) => {
    await db('users').where({ id: found.user_id }).update({ last_login_at: db.fn.now() });
    await recordAudit(db, { actor: { type: 'user', userId: found.user_id, ip }, action: 'user.logged_in', subjectType: 'user', subjectId: found.user_id });
  });
  return { userId: found.user_id, orgId: found.org_id };
}

// --- invitations and password resets (one-time emailed links) ---

export type LinkProblem = 'unknown' | 'expired' | 'used' | 'revoked';

/** A one-time link that can't be used; the page says why. */
export class UnusableLinkError extends Error {
  constructor(public readonly problem: LinkProblem) {
    super(`link ${problem}`);
    this.name = 'UnusableLinkError';
  }
}

export interface InvitationView {
  invitationId: string;
  orgId: string;
  orgName: string;
  email: string;
  role: 'owner' | 'staff';
  inviterName: string | null;
}

interface InvitationRow {
  id: string;
  email: string;
  role: 'owner' | 'staff';
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

async function invitationOrg(token: string): Promise<{ invitationId: string; orgId: string } | undefined> {
  if (!TOKEN_PATTERN.test(token)) return undefined;
  return withoutOrg(async (db) => {
    const { rows } = await db.raw<{ rows: { invitation_id: string; org_id: string }[] }>(
      'select * from invitation_by_token_hash(?)',
      [sha256Hex(token)],
    );
    return rows[0] ? { invitationId: rows[0].invitation_id, orgId: rows[0].org_id } : undefined;
  });
}

/** The invitation behind a link, or UnusableLinkError saying why it can't be used. */
export async function findInvitation(token: string): Promise<InvitationView> {
  const found = await invitationOrg(token);
  if (!found) throw new UnusableLinkError('unknown');
  return withOrg(found.orgId, async (db) => {
    const row = await db('invitations as i')
      .join('organizations as o', 'o.id', 'i.org_id')
      .leftJoin('users as u', 'u.id', 'i.invited_by')
      .where('i.id', found.invitationId)
      .first<(InvitationRow & { org_name: string; inviter_name: string | null }) | undefined>('i.*', 'o.name as org_name', 'u.name as inviter_name');
    if (!row) throw new UnusableLinkError('unknown');
    const problem = invitationProblem(row);
    if (problem) throw new UnusableLinkError(problem);
    return { invitationId: row.id, orgId: found.orgId, orgName: row.org_name, email: row.email, role: row.role, inviterName: row.inviter_name };
  });
}

/** Accepts an invitation: creates the member and uses up the link, in one transaction. */
export async function acceptInvitation(token: string, input: AcceptInvitationInput, ip?: string): Promise<SessionIdentity> {
  const invitation = await findInvitation(token);
  const weakness = await passwordWeakness(input.password, [invitation.email, input.name, invitation.orgName]);
  if (weakness) throw new FormError({ password: weakness });
  if (await emailTaken(invitation.email)) throw new FormError({ _form: EMAIL_TAKEN_BY_INVITEE });
  const passwordHash = await hashPassword(input.password);
  try {
    return await withOrg(invitation.orgId, async (db) => {
      // The conditional update is the one-time check: a second use finds no row.
      const [used] = await db('invitations')
        .where({ id: invitation.invitationId })
        .whereNull('accepted_at')
        .whereNull('revoked_at')
        .where('expires_at', '>', db.fn.now())
        .update({ accepted_at: db.fn.now() })
        .returning<{ id: string }[]>('id');
      if (!used) throw new UnusableLinkError('used');
      const [user] = await db('users')
        .insert({ org_id: invitation.orgId, email: invitation.email, name: input.name, password_hash: passwordHash, role: invitation.role })
        .returning<{ id: string }[]>('id');
      await recordAudit(db, {
        actor: { type: 'user', userId: user.id, label: invitation.email, ip },
        action: 'invitation.accepted',
        subjectType: 'user',
        subjectId: user.id,
        data: { invitation_id: invitation.invitationId, role: invitation.role },
      });
      return { userId: user.id, orgId: invitation.orgId };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new FormError({ _form: EMAIL_TAKEN_BY_INVITEE });
    throw err;
  }
}

const EMAIL_TAKEN_BY_INVITEE =
  'This email already has a Porchlight account, and an account belongs to one business. Ask the owner to invite another email address.';

export const PASSWORD_RESET_MINUTES = 60;

export interface PasswordResetRequest {
  to: string;
  name: string;
  token: string;
}

/**
 * Records a reset for the account with this email, if there is one. Callers
 * answer the same way whether or not it returned a request.
 */
export async function requestPasswordReset(email: string, ip?: string): Promise<PasswordResetRequest | null> {
  const found = await withoutOrg(async (db) => {
    const { rows } = await db.raw<{ rows: { user_id: string; org_id: string }[] }>('select user_id, org_id from auth_user_by_email(?)', [email]);
    return rows[0];
  });
  if (!found) return null;
  return withOrg(found.org_id, async (db) => {
    const user = await db('users').where({ id: found.user_id }).first<{ id: string; name: string; email: string } | undefined>('id', 'name', 'email');
    if (!user) return null;
    const { token, sha256 } = newOneTimeToken();
    const [row] = await db('password_resets')
      .insert({ org_id: found.org_id, user_id: user.id, token_sha256: sha256, expires_at: db.raw(`now() + interval '${PASSWORD_RESET_MINUTES} minutes'`) })
      .returning<{ id: string }[]>('id');
    await recordAudit(db, { actor: { type: 'user', userId: user.id, label: user.email, ip }, action: 'user.password_reset_requested', subjectType: 'password_reset', subjectId: row.id });
    return { to: user.email, name: user.name, token };
  });
}

interface ResetRow {
  id: string;
  user_id: string;
  expires_at: Date;
  used_at: Date | null;
}

async function resetOrg(token: string): Promise<{ resetId: string; orgId: string } | undefined> {
  if (!TOKEN_PATTERN.test(token)) return undefined;
  return withoutOrg(async (db) => {
    const { rows } = await db.raw<{ rows: { reset_id: string; org_id: string }[] }>('select * from password_reset_by_token_hash(?)', [sha256Hex(token)]);
    return rows[0] ? { resetId: rows[0].reset_id, orgId: rows[0].org_id } : undefined;
  });
}

/** Throws UnusableLinkError unless the reset link can still be used. */
export async function checkPasswordReset(token: string): Promise<void> {
  const found = await resetOrg(token);
  if (!found) throw new UnusableLinkError('unknown');
  await withOrg(found.orgId, async (db) => {
    const row = await db('password_resets').where({ id: found.resetId }).first<ResetRow | undefined>();
    if (!row) throw new UnusableLinkError('unknown');
    if (row.used_at) throw new UnusableLinkError('used');
    if (row.expires_at.getTime() <= Date.now()) throw new UnusableLinkError('expired');
  });
}

/** Sets a new password through a reset link; the link and any older ones stop working. */
export async function resetPassword(token: string, password: string, ip?: string): Promise<void> {
  await checkPasswordReset(token);
  const found = (await resetOrg(token))!;
  const userId = await withOrg(found.orgId, async (db) => {
    const [used] = await db('password_resets')
      .where({ id: found.resetId })
      .whereNull('used_at')
      .where('expires_at', '>', db.fn.now())
      .update({ used_at: db.fn.now() })
      .returning<{ user_id: string }[]>('user_id');
    if (!used) throw new UnusableLinkError('used');
    const user = await db('users').where({ id: used.user_id }).first<{ id: string; name: string; email: string }>('id', 'name', 'email');
    const weakness = await passwordWeakness(password, [user.email, user.name]);
    if (weakness) throw new FormError({ password: weakness }); // rolls back: the link still works
    await db('users').where({ id: user.id }).update({ password_hash: await hashPassword(password) });
    await db('password_resets').where({ user_id: user.id }).whereNull('used_at').update({ used_at: db.fn.now() });
    await recordAudit(db, { actor: { type: 'user', userId: user.id, label: user.email, ip }, action: 'user.password_reset', subjectType: 'user', subjectId: user.id });
    return user.id;
  });
  await endSessionsOf(userId);
}

/**
 * Logs a user out everywhere: a new password must lock out whoever held an old
 * session. Sessions belong to no org; the session store's own role reads them.
 */
export async function endSessionsOf(userId: string): Promise<number> {
  return getDb()('sessions').whereRaw("sess->>'userId' = ?", [userId]).del();
}
