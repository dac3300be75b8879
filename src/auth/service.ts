// Contractor accounts: sign up, log in.
import { withoutOrg, withOrg } from '../db/tenancy.js';
import { FormError } from '../http/errors.js';
import { createOrganization } from '../orgs/service.js';
import { recordAudit } from '../audit.js';
import { hashPassword, passwordWeakness, verifyPassword } from './passwords.js';
import type { LogInInput, SignUpInput } from './schema.js';

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
