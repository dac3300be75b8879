// The send worker's claim and record, each one SQL function called in one round
// trip (migrations/20261129000000_one_round_trip_functions.ts).
import { auditRow, type AuditInput } from '../audit.js';
import { getDb } from '../knex.js';
import type { Channel } from '../rows.js';

export interface ClaimedDelivery {
  id: string;
  lead_id: string;
  portal_link_id: string | null;
  channel: Channel;
  to_address: string;
  subject: string | null;
  body_text: string;
  body_html: string | null;
  /** The row's portal link: its ciphertext and whether it was revoked or expired (null when it has none). */
  token_ciphertext: string | null;
  link_revoked_at: Date | null;
  /** Whether the row's portal link has expired (portal_links.expires_at passed): it opens nothing any more. */
  link_expired: boolean | null;
  org_name: string;
  org_email: string | null;
  /** The payment a receipt is for; null for every other message. */
  payment_id: string | null;
}

export type ClaimResult = ({ claimed: true } & ClaimedDelivery) | { claimed: false; id: string; status: string };

/**
 * Claims deliveries of one org for sending (pending|queued → sending). Every id
 * that exists comes back once: claimed with what the send needs, or with the
 * status that kept it from being claimed.
 */
export async function claimDeliveries(orgId: string, ids: string[]): Promise<ClaimResult[]> {
  const { rows } = await getDb().raw<{ rows: ClaimResult[] }>('select * from claim_message_deliveries(?::uuid, ?::uuid[])', [orgId, ids]);
  return rows;
}

/** Records accepted sends (status 'sent', provider id) with their audit events, in one asynchronous commit. */
export async function recordSends(orgId: string, sends: { id: string; providerId: string }[], audit: AuditInput[]): Promise<void> {
  await getDb().raw('select record_message_sends(?::uuid, ?::uuid[], ?::text[], ?::jsonb)', [
    orgId,
    sends.map((s) => s.id),
    sends.map((s) => s.providerId),
    JSON.stringify(audit.map(auditRow)),
  ]);
}
