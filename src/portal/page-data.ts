// Everything one portal page shows, read in ONE database round trip: a single
// simple-protocol query string that opens a transaction, switches to the app role,
// pins the org found by the token (SECURITY DEFINER lookup), bumps the link's view
// counter and builds the page as one JSON value, then commits.
import { config } from '../config.js';
import { runScript, sqlLiteral } from '../db/tenancy.js';

export const PAGE_SIZE = 25;

export type ListTab = 'proposals' | 'invoices' | 'payments' | 'history';
export const TABS: readonly ListTab[] = ['proposals', 'invoices', 'payments', 'history'];

export type PortalView =
  | { kind: 'home' }
  | { kind: 'list'; tab: ListTab; page: number }
  | { kind: 'proposal'; id: string }
  | { kind: 'invoice'; id: string };

export interface PortalOrg {
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
}

export interface PortalLead {
  first_name: string;
  last_name: string;
  company: string | null;
}

export interface LineItem {
  /** The line's stored position (part of a proposal's content hash). */
  position?: number;
  service: string;
  description: string;
  quantity: number;
  unit_price_cents: number;
  amount_cents: number;
}

export interface ProposalSummary {
  id: string;
  number: number;
  title: string;
  status: 'pending' | 'approved' | 'rejected';
  total_cents: number;
  sent_at: string | null;
  created_at: string;
  valid_until: string | null;
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
  items: LineItem[];
  job: { scheduled_at: string | null; status: string } | null;
}

export interface InvoiceSummary {
  id: string;
  number: number;
  status: 'open' | 'partially_paid' | 'paid' | 'void';
  currency: string;
  issue_date: string;
  due_date: string;
  total_cents: number;
  amount_paid_cents: number;
}

export interface PaymentRow {
  id: string;
  paid_at: string;
  amount_cents: number;
  currency: string;
  method: string;
  status: string;
  kind: 'payment' | 'refund';
  invoice_id: string;
  invoice_number: number;
}

/** What the invoice page's Pay panel needs, read in the page's one query. */
export interface InvoicePayState {
  /** The org has a connected Stripe account. */
  connected: boolean;
  charges_enabled: boolean;
  /** Status of the latest Checkout Session the customer came back from, if any. */
  latest_checkout_status: string | null;
}

export interface InvoiceDetail extends InvoiceSummary {
  /** Absent when the page comes from somewhere else than the database (benchmark). */
  pay?: InvoicePayState;
  customer_message: string;
  subtotal_cents: number;
  tax_cents: number;
  tax_rate_bps: number;
  items: LineItem[];
  payments: PaymentRow[];
}

export interface JobRow {
  id: string;
  service_type: string;
  status: 'scheduled' | 'in_progress' | 'completed';
  scheduled_at: string | null;
  completed_at: string | null;
  technician: string | null;
  address: string | null;
  customer_notes: string;
}

interface Paged<T> {
  total: number;
  rows: T[];
}

export type PortalData =
  | { tab: 'proposals'; data: Paged<ProposalSummary> }
  | { tab: 'invoices'; data: Paged<InvoiceSummary> }
  | { tab: 'payments'; data: Paged<PaymentRow> & { balance_cents: number } }
  | { tab: 'history'; data: Paged<JobRow> }
  | { tab: 'proposal'; data: ProposalDetail | null }
  | { tab: 'invoice'; data: InvoiceDetail | null };

export type PortalPageData = {
  link_id: string;
  org: PortalOrg;
  lead: PortalLead;
} & PortalData;

/** Where page data comes from: the database, or (benchmark only) memory. */
export type PortalPageSource = (tokenSha256: string, view: PortalView) => Promise<PortalPageData | null>;

// Values below are spliced into SQL text (the simple protocol has no parameters);
// each is validated by its caller and quoted with escapeLiteral besides.
const HEX64 = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const ITEMS = (table: 'proposal_items' | 'invoice_items', parent: string) => `coalesce((
  select json_agg(json_build_object('position', i.position, 'service', i.service, 'description', i.description, 'quantity', i.quantity,
           'unit_price_cents', i.unit_price_cents, 'amount_cents', i.amount_cents) order by i.position, i.id)
    from ${table} i where i.${table === 'proposal_items' ? 'proposal_id' : 'invoice_id'} = ${parent}), '[]'::json)`;

const PROPOSAL_FIELDS = `'id', p.id, 'number', p.number, 'title', p.title, 'status', p.status, 'total_cents', p.total_cents,
  'sent_at', p.sent_at, 'created_at', p.created_at, 'valid_until', p.valid_until`;

const INVOICE_FIELDS = `'id', v.id, 'number', v.number, 'status', v.status, 'currency', v.currency, 'issue_date', v.issue_date,
  'due_date', v.due_date, 'total_cents', v.total_cents, 'amount_paid_cents', v.amount_paid_cents`;

const PAYMENT_FIELDS = `'id', y.id, 'paid_at', y.paid_at, 'amount_cents', y.amount_cents, 'currency', y.currency,
  'method', y.method, 'status', y.status, 'kind', y.kind, 'invoice_id', y.invoice_id, 'invoice_number', v.number`;

function listSql(tab: ListTab, offset: number): string {
  switch (tab) {
    case 'proposals':
      return `json_build_object(
        'total', (select count(*) from proposals p where p.lead_id = link.lead_id and p.status <> 'draft'),
        'rows', coalesce((select json_agg(json_build_object(${PROPOSAL_FIELDS}) order by p.status = 'pending' desc, p.created_at desc, p.number desc)
          from (select id, number, title, status, total_cents, sent_at, created_at, valid_until from proposals
                 where lead_id = link.lead_id and status <> 'draft'
                 order by status = 'pending' desc, created_at desc, number desc limit ${PAGE_SIZE} offset ${offset}) p), '[]'::json))`;
    case 'invoices':
      return `json_build_object(
        'total', (select count(*) from invoices v where v.lead_id = link.lead_id and v.status <> 'draft'),
        'rows', coalesce((select json_agg(json_build_object(${INVOICE_FIELDS}) order by v.issue_date desc, v.number desc)
          from (select id, number, status, currency, issue_date, due_date, total_cents, amount_paid_cents from invoices
                 where lead_id = link.lead_id and status <> 'draft'
                 order by issue_date desc, number desc limit ${PAGE_SIZE} offset ${offset}) v), '[]'::json))`;
    case 'payments':
      return `json_build_object(
        'balance_cents', (select coalesce(sum(v.total_cents - v.amount_paid_cents), 0) from invoices v
                           where v.lead_id = link.lead_id and v.status in ('open', 'partially_paid')),
        'total', (select count(*) from payments y join invoices v on v.id = y.invoice_id
                   where y.lead_id = link.lead_id and v.status <> 'draft'),
        'rows', coalesce((select json_agg(json_build_object(${PAYMENT_FIELDS}) order by y.paid_at desc, y.id)
          from (select y.id, y.paid_at, y.amount_cents, y.currency, y.method, y.status, y.kind, y.invoice_id from payments y
                  join invoices v on v.id = y.invoice_id
                 where y.lead_id = link.lead_id and v.status <> 'draft'
                 order by y.paid_at desc, y.id limit ${PAGE_SIZE} offset ${offset}) y
          join invoices v on v.id = y.invoice_id), '[]'::json))`;
    case 'history':
      // Upcoming visits first (soonest first), then completed ones (latest first).
      return `json_build_object(
        'total', (select count(*) from jobs j where j.lead_id = link.lead_id and j.status <> 'cancelled'),
        'rows', coalesce((select json_agg(json_build_object('id', j.id, 'service_type', j.service_type, 'status', j.status,
                   'scheduled_at', j.scheduled_at, 'completed_at', j.completed_at, 'technician', j.technician,
                   'address', coalesce(j.address, (select c.address from leads c where c.id = link.lead_id)),
                   'customer_notes', j.customer_notes) order by j.ord)
          from (select id, service_type, status, scheduled_at, completed_at, technician, address, customer_notes,
                       row_number() over (order by status <> 'completed' desc,
                         case when status <> 'completed' then scheduled_at end asc nulls last,
                         coalesce(completed_at, scheduled_at) desc nulls last, id) as ord
                  from jobs where lead_id = link.lead_id and status <> 'cancelled'
                 order by ord limit ${PAGE_SIZE} offset ${offset}) j), '[]'::json))`;
  }
}

function proposalSql(id: string): string {
  return `(select json_build_object(${PROPOSAL_FIELDS}, 'customer_message', p.customer_message,
      'subtotal_cents', p.subtotal_cents, 'tax_cents', p.tax_cents, 'tax_rate_bps', p.tax_rate_bps,
      'approved_at', p.approved_at, 'approved_by_name', p.approved_by_name, 'rejected_at', p.rejected_at,
      'rejection_reason', p.rejection_reason, 'items', ${ITEMS('proposal_items', 'p.id')},
      'job', (select json_build_object('scheduled_at', j.scheduled_at, 'status', j.status) from jobs j where j.proposal_id = p.id))
    from proposals p where p.id = ${id} and p.lead_id = link.lead_id and p.status <> 'draft')`;
}

function invoiceSql(id: string): string {
  return `(select json_build_object(${INVOICE_FIELDS}, 'customer_message', v.customer_message,
      'subtotal_cents', v.subtotal_cents, 'tax_cents', v.tax_cents, 'tax_rate_bps', v.tax_rate_bps,
      'items', ${ITEMS('invoice_items', 'v.id')},
      'payments', coalesce((select json_agg(json_build_object(${PAYMENT_FIELDS}) order by y.paid_at desc, y.id)
                   from payments y where y.invoice_id = v.id), '[]'::json),
      'pay', (select json_build_object('connected', o.stripe_account_id is not null, 'charges_enabled', o.stripe_charges_enabled,
                'latest_checkout_status', (select c.status from checkout_sessions c
                                            where c.invoice_id = v.id and c.returned_at is not null
                                            order by c.returned_at desc limit 1))
              from organizations o where o.id = link.org_id))
    from invoices v where v.id = ${id} and v.lead_id = link.lead_id and v.status <> 'draft')`;
}

/** The whole page as one SQL text (BEGIN … COMMIT), for one simple-protocol round trip. */
export function portalPageSql(tokenSha256: string, view: PortalView, quote: (value: string) => string): string {
  if (!HEX64.test(tokenSha256)) throw new Error('portal page: malformed token hash');
  const hash = quote(tokenSha256);
  let choice: string;
  let data: string;
  if (view.kind === 'home') {
    choice = `select case
        when exists (select 1 from proposals p where p.lead_id = (select lead_id from link) and p.status = 'pending') then 'proposals'
        when exists (select 1 from invoices v where v.lead_id = (select lead_id from link) and v.status in ('open', 'partially_paid')) then 'invoices'
        else 'history' end as tab`;
    data = `case choice.tab when 'proposals' then ${listSql('proposals', 0)}
                            when 'invoices' then ${listSql('invoices', 0)}
                            else ${listSql('history', 0)} end`;
  } else if (view.kind === 'list') {
    if (!TABS.includes(view.tab) || !Number.isSafeInteger(view.page) || view.page < 1) throw new Error('portal page: bad list view');
    choice = `select ${quote(view.tab)}::text as tab`;
    data = listSql(view.tab, (view.page - 1) * PAGE_SIZE);
  } else {
    if (!UUID.test(view.id)) throw new Error('portal page: malformed id');
    choice = `select ${quote(view.kind)}::text as tab`;
    data = view.kind === 'proposal' ? proposalSql(`${quote(view.id)}::uuid`) : invoiceSql(`${quote(view.id)}::uuid`);
  }
  const role = quote(config.databaseAppRole);
  // The only write is the view counter: losing its last few increments in a
  // database crash is harmless, so this commit needn't wait for the WAL flush.
  return `begin;
select set_config('role', ${role}, true), set_config('synchronous_commit', 'off', true);
select set_config('app.org_id', coalesce((select org_id::text from portal_link_by_token_hash(${hash})), ''), true);
with link as (select link_id, org_id, lead_id from portal_link_by_token_hash(${hash})),
touch as (
  update portal_links l set view_count = l.view_count + 1, last_viewed_at = now()
    from link where l.id = link.link_id
  returning l.id
),
choice as (${choice})
select json_build_object(
  'link_id', link.link_id,
  'tab', choice.tab,
  'org', (select json_build_object('name', o.name, 'plan', o.plan, 'brand_color', o.brand_color, 'logo_sha256', g.sha256,
            'phone', o.phone, 'email', o.email, 'whatsapp_number', o.whatsapp_number, 'currency', o.currency,
            'locale', o.locale, 'time_zone', o.time_zone)
          from organizations o left join org_logos g on g.org_id = o.id and g.id = o.logo_id),
  'lead', (select json_build_object('first_name', c.first_name, 'last_name', c.last_name, 'company', c.company)
           from leads c where c.id = link.lead_id),
  'data', ${data}
) as page
from link, choice;
commit;`;
}

interface PageRow {
  page: PortalPageData;
}

/** Reads one portal page from Postgres in a single round trip; null when the token is unknown or revoked. */
export const loadPortalPageFromDb: PortalPageSource = async (tokenSha256, view) => {
  // One simple query on a pooled connection: no knex transaction per view.
  const results = await runScript(portalPageSql(tokenSha256, view, sqlLiteral));
  return (results[3]?.rows[0] as PageRow | undefined)?.page ?? null;
};
