// The shape of each table's rows, and the status values its check constraints allow.
// The schema (migrations/) is the truth; these types mirror it for the code that reads and writes it.
import type { PlanId } from '../plans.js';
import type { InvoiceStatus } from '../lib/balance.js';

export type { InvoiceStatus };

export const LEAD_STAGES = ['new', 'contacted', 'proposal_sent', 'won', 'lost'] as const;
export type LeadStage = (typeof LEAD_STAGES)[number];

export const PROPOSAL_STATUSES = ['draft', 'pending', 'changes_requested', 'approved', 'rejected'] as const;
export type ProposalStatus = (typeof PROPOSAL_STATUSES)[number];

export const JOB_STATUSES = ['scheduled', 'in_progress', 'completed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const MANUAL_METHODS = ['cash', 'check', 'card_in_person', 'bank_transfer', 'other'] as const;
export type ManualMethod = (typeof MANUAL_METHODS)[number];

export const CHANNELS = ['sms', 'email'] as const;
export type Channel = (typeof CHANNELS)[number];

export const CONTEXTS = ['general', 'proposal', 'service', 'invoice'] as const;
export type MessageContext = (typeof CONTEXTS)[number];

export const DELIVERY_STATUSES = ['pending', 'queued', 'sending', 'sent', 'delivered', 'failed', 'undeliverable'] as const;
type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export type UserRole = 'owner' | 'staff';

export interface OrgRow {
  id: string;
  name: string;
  plan: PlanId;
  time_zone: string;
  currency: string;
  locale: string;
  brand_color: string;
  logo_id: string | null;
  phone: string | null;
  whatsapp_number: string | null;
  email: string | null;
  address: string | null;
  stripe_account_id: string | null;
  stripe_charges_enabled: boolean;
  stripe_details_submitted: boolean;
  stripe_customer_id: string | null;
  stripe_subscription_id: string | null;
  subscription_status: string | null;
  stripe_reconciled_at: Date | null;
  stripe_reconcile_error: string | null;
  /** Lifetime of new portal links in days; null = they never expire. */
  portal_link_lifetime_days: 30 | 90 | 365 | null;
}

/** One of a customer's service addresses (a landlord or property manager has several). */
export interface PropertyRow {
  id: string;
  org_id: string;
  lead_id: string;
  label: string;
  address: string;
  created_at: Date;
  updated_at: Date;
}

export interface LeadRow {
  id: string;
  org_id: string;
  first_name: string;
  last_name: string;
  company: string | null;
  email: string | null;
  phone: string | null;
  address: string | null;
  stage: LeadStage;
  internal_notes: string;
  created_at: Date;
  updated_at: Date;
  /** Set while automatic follow-ups to this customer are paused. */
  followups_paused_at?: Date | null;
}

export type LeadSummary = Pick<LeadRow, 'id' | 'first_name' | 'last_name' | 'company' | 'email' | 'phone' | 'stage' | 'created_at'>;

export interface ProposalRow {
  id: string;
  org_id: string;
  lead_id: string;
  /** The customer's property it is for; null: their main property. */
  property_id: string | null;
  number: number;
  title: string;
  status: ProposalStatus;
  tax_rate_bps: number;
  subtotal_cents: number;
  tax_cents: number;
  total_cents: number;
  customer_message: string;
  internal_notes: string;
  valid_until: string | null;
  sent_at: Date | null;
  /** When the customer first opened it in the portal (the visit log keeps the rest for 90 days). */
  first_viewed_at: Date | null;
  approved_at: Date | null;
  approval_source: 'portal' | 'staff' | null;
  approved_by_name: string | null;
  approved_by_user_id: string | null;
  approved_ip: string | null;
  approved_user_agent: string | null;
  approved_content_sha256: string | null;
  /** Deposit asked on approval: a percentage (value in basis points) or an amount (minor units). */
  deposit_kind: 'percent' | 'amount' | null;
  deposit_value: number | string | null;
  /** The deposit owed, fixed at approval from the approved total. */
  deposit_cents: number | string | null;
  rejected_at: Date | null;
  rejection_reason: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  /** 1, then one more each time a revision is sent after the customer asked for changes. */
  version: number;
}

/** What a customer signed in the portal: frozen at approval, never updated. */
export interface ProposalSignatureRow {
  id: string;
  org_id: string;
  proposal_id: string;
  version: number;
  signer_name: string;
  method: 'drawn' | 'typed';
  image_png: Buffer | null;
  signed_at: Date;
  ip: string | null;
  user_agent: string | null;
  /** The exact JSON hashed (proposalContentJson), so the hash can be checked against it. */
  content_json: string;
  content_sha256: string;
}

/** A version the customer asked to change, frozen with their message; superseded once the revision is sent. */
export interface ProposalVersionRow {
  id: string;
  org_id: string;
  proposal_id: string;
  version: number;
  content_json: string;
  content_sha256: string;
  change_message: string;
  requested_at: Date;
  requested_ip: string | null;
  requested_user_agent: string | null;
  superseded_at: Date | null;
}

/** A stored proposal or invoice line. */
interface ItemRow {
  id: string;
  position: number;
  service: string;
  description: string;
  quantity: string;
  unit_price_cents: number;
  amount_cents: number;
}

export interface ProposalItemRow extends ItemRow {
  proposal_id: string;
  /** The customer may leave it out (never also in a group). */
  optional: boolean;
  /** Alternatives share a label; the customer picks exactly one of them. */
  group_label: string | null;
  /** In the total: the contractor's default until approval, then the customer's choice. */
  selected: boolean;
}

export interface InvoiceItemRow extends ItemRow {
  invoice_id: string;
}

export interface JobRow {
  id: string;
  org_id: string;
  lead_id: string;
  /** The customer's property it is for; null: their main property. */
  property_id: string | null;
  proposal_id: string | null;
  service_type: string;
  scheduled_at: Date | null;
  address: string | null;
  technician: string | null;
  /** The visit starts between scheduled_at and this many minutes later (shown to the customer as a window). */
  arrival_window_minutes: number;
  status: JobStatus;
  customer_notes: string;
  internal_notes: string;
  completed_at: Date | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface InvoiceRow {
  id: string;
  org_id: string;
  lead_id: string;
  /** The customer's property it is for; null: their main property. */
  property_id: string | null;
  number: number;
  proposal_id: string | null;
  job_id: string | null;
  status: InvoiceStatus;
  currency: string;
  issue_date: string;
  due_date: string;
  tax_rate_bps: number;
  subtotal_cents: number;
  tax_cents: number;
  total_cents: number;
  amount_paid_cents: number;
  customer_message: string;
  internal_notes: string;
  issued_at: Date | null;
  voided_at: Date | null;
  /** When the customer first opened it in the portal. */
  first_viewed_at: Date | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface PaymentRow {
  id: string;
  org_id: string;
  lead_id: string;
  /** Null only for a deposit not yet credited to an invoice (it names its proposal). */
  invoice_id: string | null;
  proposal_id: string | null;
  kind: 'payment' | 'refund';
  refund_of: string | null;
  amount_cents: number;
  currency: string;
  method: ManualMethod | 'stripe';
  source: 'manual' | 'stripe';
  status: 'pending' | 'succeeded' | 'failed' | 'refunded';
  reference: string | null;
  paid_at: Date;
  recorded_by: string | null;
  stripe_payment_intent_id: string | null;
  stripe_checkout_session_id: string | null;
  stripe_charge_id: string | null;
  stripe_refund_id: string | null;
  /** Set when a payment recorded by hand is marked as not received (status 'failed'). */
  failure_reason: NotReceivedReason | null;
  failure_note: string | null;
  failed_at: Date | null;
  failed_by: string | null;
  created_at: Date;
}

/** Why a payment recorded by hand was not received after all. */
export const NOT_RECEIVED_REASONS = ['bounced', 'mistake'] as const;
export type NotReceivedReason = (typeof NOT_RECEIVED_REASONS)[number];

export interface DeliveryRow {
  id: string;
  lead_id: string;
  portal_link_id: string | null;
  channel: Channel;
  context: MessageContext;
  to_address: string;
  subject: string | null;
  body_text: string;
  body_html: string | null;
  status: DeliveryStatus;
  provider_id: string | null;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  sent_at: Date | null;
  delivered_at: Date | null;
  /** Sent because the customer asked for their link again (not by a person of the org). */
  customer_request: boolean;
  /** Why the row exists: sent by a person, a payment receipt, an automatic follow-up. */
  purpose: 'manual' | 'receipt' | 'followup' | 'autopay' | 'notice';
  payment_id: string | null;
}
