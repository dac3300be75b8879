// Everything one portal page shows, read in ONE database round trip: the
// portal_page() SQL function (migrations/20261129000000_one_round_trip_functions.ts)
// finds the link by its token hash, pins its org under row-level security, logs the
// visit and builds the page as one JSON value (unless the caller's is still current).
// These types are that JSON.
import { PAYABLE_STATUSES } from '../lib/balance.js';
import { getDb } from './knex.js';

export const PAGE_SIZE = 25;

export type ListTab = 'proposals' | 'invoices' | 'payments' | 'history';
export const TABS: readonly ListTab[] = ['proposals', 'invoices', 'payments', 'history'];

export type PortalView =
  | { kind: 'home'; property?: string | null }
  | { kind: 'list'; tab: ListTab; page: number; property?: string | null }
  | { kind: 'proposal'; id: string }
  | { kind: 'invoice'; id: string };

/** One of the customer's service addresses (the portal's property filter). */
interface PortalProperty {
  id: string;
  label: string;
  address: string;
}

interface PortalOrg {
  name: string;
  plan: string;
  brand_color: string;
  logo_sha256: string | null;
  phone: string | null;
  email: string | null;
  whatsapp_number: string | null;
  currency: string;
  locale: string;
  time_zone: string;
  address: string | null;
  /** The org has a connected Stripe account (never its id) and it can take charges. */
  stripe_connected: boolean;
  stripe_charges_enabled: boolean;
  /** Suggested tip percentages on online payments; null = tips off. */
  tip_percentages: number[] | null;
}

/** What waits for the customer (the tabs' count badges), and how many records they have at all. */
interface PortalWaiting {
  proposals: number;
  invoices: number;
  records: number;
}

interface PortalLead {
  first_name: string;
  last_name: string;
  company: string | null;
  /** The language the customer reads in, when stored ('en' | 'es'); null: their browser's, else the business's. */
  language: string | null;
}

interface LineItem {
  /** The line's stored position (part of a proposal's content hash). */
  position?: number;
  service: string;
  description: string;
  quantity: number;
  unit_price_cents: number;
  amount_cents: number;
}

/** A proposal's line also says how the customer may choose it (lib/line-options.ts). */
export interface ProposalLineItem extends LineItem {
  id: string;
  optional: boolean;
  group_label: string | null;
  selected: boolean;
}

interface ProposalSummary {
  id: string;
  number: number;
  title: string;
  status: 'pending' | 'changes_requested' | 'approved' | 'rejected';
  total_cents: number;
  sent_at: string | null;
  created_at: string;
  valid_until: string | null;
  /** In lists: the row's property (its own, else the customer's main one). */
  property_id?: string | null;
}

export interface ProposalDetail extends ProposalSummary {
  customer_message: string;
  subtotal_cents: number;
  tax_cents: number;
  tax_rate_bps: number;
  approved_at: string | null;
  approved_by_name: string | null;
  rejected_at: string | null;
  rejection_reason: string | null;
  items: ProposalLineItem[];
  job: { scheduled_at: string | null; status: string; technician: string | null; arrival_window_minutes: number } | null;
  /** The version on show (1, then one more per revision sent after a change request). */
  version: number;
  /** Versions the customer asked to change, latest first, each frozen as the exact JSON that was hashed. */
  versions: PortalProposalVersion[];
  signature: { signer_name: string; method: 'drawn' | 'typed'; signed_at: string } | null;
  /** The deposit asked (percent in basis points, or an amount), owed once approved, and paid so far. */
  deposit_kind: 'percent' | 'amount' | null;
  deposit_value: number | null;
  deposit_cents: number | null;
  deposit_paid_cents: number;
  /** What was refunded of those payments (a refunded deposit still counts as paid: it is not asked again). */
  deposit_refunded_cents: number;
  /** The latest deposit Checkout the customer came back from, if any. */
  deposit_checkout_status: string | null;
}

export interface PortalProposalVersion {
  version: number;
  content_json: string;
  change_message: string;
  requested_at: string;
  superseded_at: string | null;
}

interface InvoiceSummary {
  id: string;
  number: number;
  status: 'open' | 'partially_paid' | 'paid' | 'void';
  currency: string;
  issue_date: string;
  due_date: string;
  total_cents: number;
  amount_paid_cents: number;
  /** In lists: the row's property (its own, else the customer's main one). */
  property_id?: string | null;
}

interface PortalPayment {
  id: string;
  paid_at: string;
  amount_cents: number;
  currency: string;
  method: string;
  status: string;
  kind: 'payment' | 'refund';
  /** Its invoice, once that is issued (null before: a deposit waiting for its invoice). */
  invoice_id: string | null;
  invoice_number: number | null;
  /** In the Payments tab, a deposit not yet on an issued invoice: the proposal it was paid on. */
  proposal_id?: string | null;
  proposal_number?: number | null;
  /** A tip paid with this payment (never part of an invoice balance). */
  tip_cents: number;
}

/** What the invoice page's Pay panel needs, read in the page's one query. */
interface InvoicePayState {
  /** The org has a connected Stripe account. */
  connected: boolean;
  charges_enabled: boolean;
  /** Status of the latest Checkout Session the customer came back from, if any. */
  latest_checkout_status: string | null;
}

interface InvoiceDetail extends InvoiceSummary {
  pay: InvoicePayState;
  customer_message: string;
  subtotal_cents: number;
  tax_cents: number;
  tax_rate_bps: number;
  items: LineItem[];
  payments: PortalPayment[];
}

export interface PortalJob {
  id: string;
  service_type: string;
  status: 'scheduled' | 'in_progress' | 'completed';
  scheduled_at: string | null;
  completed_at: string | null;
  technician: string | null;
  address: string | null;
  customer_notes: string;
  /** The visit starts between scheduled_at and this many minutes later. */
  arrival_window_minutes: number;
  /** In Service History: when the customer last asked to move it, while that request is still open (else null). */
  reschedule_asked_at?: string | null;
}

interface Paged<T> {
  total: number;
  rows: T[];
}

type PortalData =
  | { tab: 'proposals'; data: Paged<ProposalSummary> }
  | { tab: 'invoices'; data: Paged<InvoiceSummary> }
  | { tab: 'payments'; data: Paged<PortalPayment> & { balance_cents: number } }
  | { tab: 'history'; data: Paged<PortalJob> }
  | { tab: 'proposal'; data: ProposalDetail | null }
  | { tab: 'invoice'; data: InvoiceDetail | null };

export type PortalPageData = {
  link_id: string;
  /** The version of what the page is built from (the customer's records and the org's row): see loadPortalPageText. */
  version: string;
  org: PortalOrg;
  lead: PortalLead;
  waiting: PortalWaiting;
  properties: PortalProperty[];
  /** The property the lists are filtered to (one of `properties`), or null for all. */
  property_id: string | null;
  /** Invoices tab and invoice page: the card saved on the org's connected account, if any. */
  saved_card?: { brand: string | null; last4: string; exp_month: number; exp_year: number; autopay: boolean } | null;
  /** Invoice page: the invoice's latest automatic payment attempt. */
  autopay_last_attempt?: { status: 'pending' | 'succeeded' | 'failed'; failure_code: string | null; attempt_day: string } | null;
} & PortalData;

/** What the visit log records about who asked (see src/portal/visit.ts). */
export interface PortalVisitor {
  device: string | null;
  ipHash: string | null;
}

/** The prepared statement's name: Postgres parses and plans the call once per connection. */
export const PORTAL_PAGE_STATEMENT = 'portal_page';
const PORTAL_PAGE_SQL = 'select portal_page($1, $2, $3::uuid, $4, $5, $6::text[], $7, $8, $9::uuid, $10)::text as page';

/**
 * What portal_page() answers, exactly, when the page's version is still the one
 * the caller named: the page is the one it rendered at that version.
 */
export const SAME_PAGE = '{"same" : true}';

/** A pooled pg connection as knex hands it out (knex's own query path costs more than this call's work). */
interface PgConnection {
  query(query: { name: string; text: string; values: unknown[] }): Promise<{ rows: { page: string | null }[] }>;
}
interface PgPool {
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(connection: PgConnection): Promise<unknown>;
}

/**
 * Reads one portal page in a single round trip (and logs the visit), as the JSON
 * text Postgres wrote; null when the token is unknown, revoked or expired.
 *
 * `known`: the version of the page the caller has rendered (its `version`), if
 * any. When nothing it is built from has changed since, Postgres does not build
 * it again and the answer is SAME_PAGE (the visit is logged all the same). Every
 * write to the customer's records changes the version (a trigger on each table
 * the page reads them from), and so does every update of the org's row
 * (migrations/20261231010000_portal_page_versions.ts).
 *
 * The busiest query of the product goes to a connection from knex's pool as a
 * named prepared statement: its plan is kept per connection, and knex's query
 * builder and events are skipped. Nothing else about the connection differs.
 */
export async function loadPortalPageText(
  tokenSha256: string,
  view: PortalView,
  visitor: PortalVisitor,
  known: string | null = null,
): Promise<string | null> {
  const kind = view.kind === 'list' ? view.tab : view.kind;
  const id = view.kind === 'proposal' || view.kind === 'invoice' ? view.id : null;
  const page = view.kind === 'list' ? view.page : 1;
  const property = view.kind === 'list' || view.kind === 'home' ? (view.property ?? null) : null;
  const pool = getDb().client as PgPool;
  const connection = await pool.acquireConnection();
  try {
    const { rows } = await connection.query({
      name: PORTAL_PAGE_STATEMENT,
      text: PORTAL_PAGE_SQL,
      values: [tokenSha256, kind, id, page, PAGE_SIZE, [...PAYABLE_STATUSES], visitor.device, visitor.ipHash, property, known],
    });
    // A select of one function call: always one row, its value null when no page.
    return rows[0].page;
  } finally {
    await pool.releaseConnection(connection);
  }
}

/** The same page, read. */
export async function loadPortalPage(tokenSha256: string, view: PortalView, visitor: PortalVisitor): Promise<PortalPageData | null> {
  const text = await loadPortalPageText(tokenSha256, view, visitor);
  return text === null ? null : (JSON.parse(text) as PortalPageData);
}
