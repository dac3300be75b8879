// Pending sign-ups (signup_requests) belong to no org: the auth feature reads and
// writes them only through these SECURITY DEFINER functions (migration
// 20261201030000), as the app role with no org set or inside the new org's transaction.
import { withoutOrg, type Db } from '../tenancy.js';

export interface NewSignupRequest {
  email: string;
  orgName: string;
  name: string;
  tokenSha256: string;
  validSeconds: number;
}

/** Stores a request; an older one for the same address stops working. */
export async function insertSignupRequest(request: NewSignupRequest): Promise<void> {
  await withoutOrg((db) =>
    db.raw('select signup_request_create(?, ?, ?, ?, ?)', [
      request.email,
      request.orgName,
      request.name,
      request.tokenSha256,
      request.validSeconds,
    ]),
  );
}

export interface SignupRequestRow {
  request_id: string;
  email: string;
  org_name: string;
  name: string;
  expired: boolean;
  used: boolean;
}

export async function signupRequestByTokenHash(tokenSha256: string): Promise<SignupRequestRow | null> {
  const { rows } = await withoutOrg((db) =>
    db.raw<{ rows: SignupRequestRow[] }>('select request_id, email, org_name, name, expired, used from signup_request_by_token_hash(?)', [
      tokenSha256,
    ]),
  );
  return rows[0] ?? null;
}

/** Uses up a request in the caller's transaction: its details, or null when it was used or expired. */
export async function useSignupRequest(db: Db, requestId: string): Promise<{ email: string; org_name: string; name: string } | null> {
  const { rows } = await db.raw<{ rows: { email: string; org_name: string; name: string }[] }>(
    'select email, org_name, name from signup_request_use(?)',
    [requestId],
  );
  return rows[0] ?? null;
}
