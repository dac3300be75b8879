// Contractor accounts: the only writer of users, invitations, password_resets and
// signup_requests. Sign up (a confirmed address, then a new organization and its
// owner), log in, invitations, password resets, and the owner's team changes.
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { recordAudit, type Actor } from '../db/audit.js';
import { authUserByEmail, emailTaken } from '../db/lookups.js';
import { deleteSessionsOf } from '../db/sql/sessions.js';
import { insertSignupRequest, signupRequestByTokenHash, useSignupRequest } from '../db/sql/signups.js';
import { nowPlusSeconds } from '../db/sql/time.js';
import { withOrg, type Db } from '../db/tenancy.js';
import { msg } from '../i18n/index.js';
import { FormError, notFound } from '../lib/errors.js';
import { newOneTimeToken, sha256Hex, TOKEN_PATTERN } from '../lib/tokens.js';
import { insertOrganization } from '../orgs/commands.js';
import type { PlanId } from '../plans.js';
import { hashPassword, passwordWeakness, verifyPassword } from './passwords.js';
import { checkPasswordReset, findInvitation, UnusableLinkError, type Member } from './queries.js';
import type { AcceptInvitationInput, LogInInput, SignUpInput } from './schema.js';

export interface SessionIdentity {
  userId: string;
  orgId: string;
}

const EMAIL_TAKEN = 'auth:error.emailTaken';
const EMAIL_TAKEN_BY_INVITEE = 'auth:error.emailTakenByInvitee';

const INVITATION_DAYS = 7;
export const PASSWORD_RESET_MINUTES = 60;

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === '23505';
}

export interface NewOrganization {
  name: string;
  owner: { name: string; email: string; passwordHash: string };
  plan?: PlanId;
  timeZone?: string;
}

/** The organization row, its owner and the audit event, inside the new org's transaction. */
async function insertOrganizationWithOwner(
  db: Db,
  orgId: string,
  input: NewOrganization,
  ip?: string,
): Promise<{ orgId: string; userId: string }> {
  await insertOrganization(db, { id: orgId, name: input.name, plan: input.plan ?? 'free', timeZone: input.timeZone });
  const [user] = await db('users')
    .insert({ org_id: orgId, email: input.owner.email, name: input.owner.name, password_hash: input.owner.passwordHash, role: 'owner' })
    .returning<{ id: string }[]>('id');
  await recordAudit(db, {
    actor: { type: 'user', userId: user.id, label: input.owner.email, ip },
    action: 'org.created', // i18n-exempt: an audit record's action
    subjectType: 'organization',
    subjectId: orgId,
    data: { name: input.name },
  });
  return { orgId, userId: user.id };
}

/** Creates an organization and its owner in one transaction (seeding, tests). */
export async function createOrganization(input: NewOrganization, knex?: Knex): Promise<{ orgId: string; userId: string }> {
  const orgId = crypto.randomUUID();
  return withOrg(orgId, (db) => insertOrganizationWithOwner(db, orgId, input), knex);
}

// --- sign-up: the address is confirmed before an account exists ---

export const SIGNUP_LINK_HOURS = 24;

export type SignUpRequest =
  /** A new address: the link that finishes sign-up. */
  | { kind: 'confirm'; to: string; name: string; orgName: string; token: string }
  /** The address has an account: its owner is told, with ways to log in. */
  | { kind: 'existing'; to: string; name: string };

/**
 * Step one of sign-up. Callers answer the same way whichever it returns, so the
 * form never tells a stranger which addresses have accounts.
 */
export async function requestSignUp(input: SignUpInput, ip?: string): Promise<SignUpRequest> {
  const found = await authUserByEmail(input.email);
  if (found) {
    return withOrg(found.org_id, async (db) => {
      const user = await db('users').where({ id: found.user_id }).first<{ name: string; email: string }>('name', 'email');
      await recordAudit(db, {
        actor: { type: 'system', label: 'sign-up form' }, // i18n-exempt: an audit record's actor
        action: 'user.signup_attempted', // i18n-exempt: an audit record's action
        subjectType: 'user',
        subjectId: found.user_id,
        data: { ip: ip ?? null },
      });
      return { kind: 'existing', to: user.email, name: user.name };
    });
  }
  const { token, sha256 } = newOneTimeToken();
  await insertSignupRequest({
    email: input.email,
    orgName: input.orgName,
    name: input.name,
    tokenSha256: sha256,
    validSeconds: SIGNUP_LINK_HOURS * 3600,
  });
  return { kind: 'confirm', to: input.email, name: input.name, orgName: input.orgName, token };
}

export interface PendingSignUp {
  requestId: string;
  email: string;
  orgName: string;
  name: string;
}

/** The sign-up behind a link while it can still be used; UnusableLinkError otherwise. */
export async function findSignUp(token: string): Promise<PendingSignUp> {
  const row = TOKEN_PATTERN.test(token) ? await signupRequestByTokenHash(sha256Hex(token)) : null;
  if (!row) throw new UnusableLinkError('unknown');
  if (row.used) throw new UnusableLinkError('used');
  if (row.expired) throw new UnusableLinkError('expired');
  return { requestId: row.request_id, email: row.email, orgName: row.org_name, name: row.name };
}

/** Step two: the password chosen from the link creates the organization and its owner; the link is used up. */
export async function completeSignUp(token: string, password: string, ip?: string, timeZone?: string): Promise<SessionIdentity> {
  const pending = await findSignUp(token);
  const weakness = passwordWeakness(password, [pending.email, pending.name, pending.orgName]);
  if (weakness) throw new FormError({ password: weakness }); // the link still works
  if (await emailTaken(pending.email)) throw new FormError({ _form: EMAIL_TAKEN });
  const passwordHash = await hashPassword(password);
  const orgId = crypto.randomUUID();
  try {
    return await withOrg(orgId, async (db) => {
      const used = await useSignupRequest(db, pending.requestId);
      if (!used) throw new UnusableLinkError('used');
      return insertOrganizationWithOwner(
        db,
        orgId,
        { name: used.org_name, owner: { name: used.name, email: used.email, passwordHash }, timeZone },
        ip,
      );
    });
  } catch (err) {
    // The address got an account (an invitation, another sign-up) since the link was sent.
    if (isUniqueViolation(err)) throw new FormError({ _form: EMAIL_TAKEN });
    throw err;
  }
}

/** The identity for a correct email + password, or null (same time either way). */
export async function logIn(input: Pick<LogInInput, 'email' | 'password'>, ip?: string): Promise<SessionIdentity | null> {
  const found = await authUserByEmail(input.email);
  const ok = await verifyPassword(found?.password_hash ?? null, input.password);
  if (!found || !ok) return null;
  await withOrg(found.org_id, async (db) => {
    await db('users').where({ id: found.user_id }).update({ last_login_at: db.fn.now() });
    await recordAudit(db, {
      actor: { type: 'user', userId: found.user_id, ip },
      action: 'user.logged_in', // i18n-exempt: an audit record's action
      subjectType: 'user',
      subjectId: found.user_id,
    });
  });
  return { userId: found.user_id, orgId: found.org_id };
}

// --- invitations ---

export interface CreatedInvitation {
  id: string;
  token: string;
  expiresAt: Date;
}

/**
 * Creates a one-time invitation for a staff member. A pending invitation to the
 * same address is replaced, so only the newest link works.
 */
export async function inviteMember(
  db: Db,
  input: { orgId: string; email: string; invitedBy: string; actor: Actor },
): Promise<CreatedInvitation> {
  if (await emailTaken(input.email, db)) {
    throw new FormError({ email: 'auth:error.emailTakenInvite' });
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
      expires_at: nowPlusSeconds(db, INVITATION_DAYS * 86_400),
    })
    .returning<{ id: string; expires_at: Date }[]>(['id', 'expires_at']);
  await recordAudit(db, {
    actor: input.actor,
    action: 'invitation.created', // i18n-exempt: an audit record's action
    subjectType: 'invitation',
    subjectId: row.id,
    data: { email: input.email, role: 'staff' },
  });
  return { id: row.id, token, expiresAt: row.expires_at };
}

export async function revokeInvitation(db: Db, invitationId: string, actor: Actor): Promise<void> {
  const [row] = await db('invitations')
    .where({ id: invitationId })
    .whereNull('accepted_at')
    .whereNull('revoked_at')
    .update({ revoked_at: db.fn.now() })
    .returning<{ id: string; email: string }[]>(['id', 'email']);
  if (!row) throw notFound('auth:error.invitationGone');
  await recordAudit(db, { actor, action: 'invitation.revoked', subjectType: 'invitation', subjectId: row.id, data: { email: row.email } }); // i18n-exempt: an audit record's action
}

/** Accepts an invitation: creates the member and uses up the link, in one transaction. */
export async function acceptInvitation(token: string, input: AcceptInvitationInput, ip?: string): Promise<SessionIdentity> {
  const invitation = await findInvitation(token);
  const weakness = passwordWeakness(input.password, [invitation.email, input.name, invitation.orgName]);
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
        action: 'invitation.accepted', // i18n-exempt: an audit record's action
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

// --- password resets ---

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
  const found = await authUserByEmail(email);
  if (!found) return null;
  return withOrg(found.org_id, async (db) => {
    const user = await db('users')
      .where({ id: found.user_id })
      .first<{ id: string; name: string; email: string } | undefined>('id', 'name', 'email');
    if (!user) return null;
    const { token, sha256 } = newOneTimeToken();
    const [row] = await db('password_resets')
      .insert({ org_id: found.org_id, user_id: user.id, token_sha256: sha256, expires_at: nowPlusSeconds(db, PASSWORD_RESET_MINUTES * 60) })
      .returning<{ id: string }[]>('id');
    await recordAudit(db, {
      actor: { type: 'user', userId: user.id, label: user.email, ip },
      action: 'user.password_reset_requested', // i18n-exempt: an audit record's action
      subjectType: 'password_reset',
      subjectId: row.id,
    });
    return { to: user.email, name: user.name, token };
  });
}

/** Sets a new password through a reset link; the link and any older ones stop working. */
export async function resetPassword(token: string, password: string, ip?: string): Promise<void> {
  const found = await checkPasswordReset(token);
  const userId = await withOrg(found.orgId, async (db) => {
    const [used] = await db('password_resets')
      .where({ id: found.resetId })
      .whereNull('used_at')
      .where('expires_at', '>', db.fn.now())
      .update({ used_at: db.fn.now() })
      .returning<{ user_id: string }[]>('user_id');
    if (!used) throw new UnusableLinkError('used');
    const user = await db('users').where({ id: used.user_id }).first<{ id: string; name: string; email: string }>('id', 'name', 'email');
    const weakness = passwordWeakness(password, [user.email, user.name]);
    if (weakness) throw new FormError({ password: weakness }); // rolls back: the link still works
    await db('users')
      .where({ id: user.id })
      .update({ password_hash: await hashPassword(password) });
    await db('password_resets').where({ user_id: user.id }).whereNull('used_at').update({ used_at: db.fn.now() });
    await recordAudit(db, {
      actor: { type: 'user', userId: user.id, label: user.email, ip },
      action: 'user.password_reset', // i18n-exempt: an audit record's action
      subjectType: 'user',
      subjectId: user.id,
    });
    return user.id;
  });
  await endSessionsOf(userId);
}

/**
 * Logs a user out everywhere: a new password must lock out whoever held an old
 * session. Sessions belong to no org; the session store's own role reads them.
 */
async function endSessionsOf(userId: string): Promise<number> {
  return deleteSessionsOf(userId);
}

// --- the team (owners only) ---

/**
 * Locks the owners, then reads the member: two owners removing or demoting each
 * other at once can't both succeed. Returns the member and how many owners there are.
 */
async function lockOwnersAndFind(db: Db, userId: string): Promise<{ member: Member; owners: number }> {
  const owners = await db('users').where({ role: 'owner' }).forUpdate().select<{ id: string }[]>('id');
  const member = await db('users')
    .where({ id: userId })
    .first<Member | undefined>('id', 'name', 'email', 'role', 'created_at', 'last_login_at');
  if (!member) throw notFound('auth:error.memberGone');
  return { member, owners: owners.length };
}

/** Removes a member; the last owner stays, so the business is never left without one. */
export async function removeMember(db: Db, userId: string, actor: Actor): Promise<Member> {
  const { member, owners } = await lockOwnersAndFind(db, userId);
  if (member.role === 'owner' && owners <= 1) {
    throw new FormError({ _form: msg('auth:error.onlyOwnerRemove', { name: member.name }) });
  }
  await db('users').where({ id: userId }).delete();
  await recordAudit(db, {
    actor,
    action: 'user.removed', // i18n-exempt: an audit record's action
    subjectType: 'user',
    subjectId: userId,
    data: { email: member.email, role: member.role },
  });
  return member;
}

/** Owners may make a staff member an owner or back; the last owner keeps the role. */
export async function changeRole(db: Db, userId: string, role: 'owner' | 'staff', actor: Actor): Promise<Member> {
  const { member, owners } = await lockOwnersAndFind(db, userId);
  if (member.role === role) return member;
  if (member.role === 'owner' && owners <= 1) {
    throw new FormError({ _form: msg('auth:error.onlyOwner', { name: member.name }) });
  }
  await db('users').where({ id: userId }).update({ role });
  await recordAudit(db, {
    actor,
    action: 'user.role_changed', // i18n-exempt: an audit record's action
    subjectType: 'user',
    subjectId: userId,
    data: { from: member.role, to: role },
  });
  return { ...member, role };
}
