// Row shapes for the tables the tests read directly, so a query result is typed
// rather than `any`. The business tables use the app's own types (src/db/rows.ts);
// these cover the rest. migrations/ is the truth: int8 columns arrive as numbers
// (src/db/knex.ts sets the parser), timestamptz as Date.
import type { AuditEventRow } from '../../src/db/audit.js';
import type { OrgRow, UserRole } from '../../src/db/rows.js';

/** organizations, with the columns OrgRow leaves out. */
export interface OrgRecord extends OrgRow {
  stripe_reconcile_cursor: number | null;
  created_at: Date;
  updated_at: Date;
}

export interface UserRecord {
  id: string;
  org_id: string;
  email: string;
  name: string;
  password_hash: string;
  role: UserRole;
  created_at: Date;
  last_login_at: Date | null;
}

export interface InvitationRecord {
  id: string;
  org_id: string;
  email: string;
  role: UserRole;
  token_sha256: string;
  invited_by: string;
  expires_at: Date;
  accepted_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
}

export interface PasswordResetRecord {
  id: string;
  org_id: string;
  user_id: string;
  token_sha256: string;
  expires_at: Date;
  used_at: Date | null;
  created_at: Date;
}

export interface OrgLogoRecord {
  id: string;
  org_id: string;
  sha256: string;
  content_type: 'image/png' | 'image/jpeg' | 'image/webp';
  width: number;
  height: number;
  bytes: Buffer;
  created_at: Date;
}

export interface OrgCounterRecord {
  org_id: string;
  name: 'proposal' | 'invoice';
  last_value: number;
}

export interface PortalLinkRecord {
  id: string;
  org_id: string;
  lead_id: string;
  token_sha256: string;
  token_ciphertext: string;
  created_by: string | null;
  created_at: Date;
  revoked_at: Date | null;
  revoked_by: string | null;
  expires_at: Date | null;
  last_viewed_at: Date | null;
  view_count: number;
}

export interface StripeEventRecord {
  id: string;
  org_id: string;
  type: string;
  account: string | null;
  created: number;
  received_at: Date;
  processed_at: Date | null;
}

export interface CheckoutSessionRecord {
  id: string;
  org_id: string;
  invoice_id: string;
  lead_id: string;
  stripe_checkout_session_id: string | null;
  stripe_payment_intent_id: string | null;
  url: string | null;
  amount_cents: number;
  currency: string;
  application_fee_cents: number;
  status: 'open' | 'processing' | 'paid' | 'failed' | 'expired';
  returned_at: Date | null;
  expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** audit_events, as stored: the columns auditRow() builds plus the ones Postgres fills in. */
export interface AuditEventRecord extends AuditEventRow {
  id: number;
  org_id: string;
  created_at: Date;
}

export interface UnappliedPaymentRecord {
  id: string;
  org_id: string;
  stripe_payment_intent_id: string;
  stripe_checkout_session_id: string | null;
  stripe_charge_id: string | null;
  invoice_id: string | null;
  invoice_number: number | null;
  amount_cents: number;
  currency: string;
  reason: 'void' | 'draft' | 'currency' | 'overpayment';
  paid_at: Date;
  created_at: Date;
}
