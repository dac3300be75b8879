// The contractor's home page and a customer's page: each reads across features.
import type { Db } from '../db/tenancy.js';
import { listInvoices, openBalance } from '../invoices/queries.js';
import { balanceOf } from '../lib/balance.js';
import { listUpcomingJobs, listJobs } from '../jobs/queries.js';
import { getLead, leadName, listProperties } from '../leads/queries.js';
import { loadMessagingPanel } from '../messaging/panel.js';
import { listPayments } from '../payments/queries.js';
import { loadPortalPanel } from '../portal-links/panel.js';
import { listProposals } from '../proposals/queries.js';
import { listChangeRequests } from '../proposals/revisions.js';

/** What needs attention today. */
export async function loadHome(db: Db) {
  // One transaction is one connection: queries run one after another.
  const pendingProposals = await listProposals(db, { status: 'pending', limit: 10 });
  const pendingTotal = await db('proposals')
    .where({ status: 'pending' })
    .count({ count: '*' })
    .sum({ total_cents: 'total_cents' })
    .first<{ count: string | number; total_cents: string | number | null }>();
  const unpaid = await openBalance(db);
  // Each with what is still owed on it, as the card lists them.
  const unpaidInvoices = (await listInvoices(db, { unpaidOnly: true, limit: 10 })).map((invoice) => ({
    ...invoice,
    owed_cents: balanceOf(invoice),
  }));
  const upcomingJobs = await listUpcomingJobs(db, 10);
  const recentPayments = await listPayments(db, { limit: 10 });
  const changeRequests = await listChangeRequests(db);
  return {
    changeRequests,
    pendingProposals,
    pendingCount: Number(pendingTotal.count),
    pendingTotalCents: Number(pendingTotal.total_cents ?? 0),
    unpaidBalanceCents: unpaid.balance_cents,
    unpaidCount: unpaid.invoice_count,
    unpaidInvoices,
    upcomingJobs,
    recentPayments,
    checklist: await firstRunChecklist(db),
  };
}

interface ChecklistStep {
  key: 'phone' | 'brand' | 'customer' | 'link' | 'stripe';
  label: string;
  href: string;
  done: boolean;
}

/** The default brand colour a new organization starts with (the foundation migration's default). */
const DEFAULT_BRAND_COLOR = '#1d4ed8';

/**
 * The first-run checklist on Home: what a new business sets up before its first
 * customer link. Each step is read from the data, so it ticks itself.
 */
async function firstRunChecklist(db: Db): Promise<ChecklistStep[]> {
  const org = await db('organizations').first<{
    phone: string | null;
    logo_id: string | null;
    brand_color: string;
    stripe_charges_enabled: boolean;
  }>('phone', 'logo_id', 'brand_color', 'stripe_charges_enabled');
  const hasLead = await db('leads').first<{ id: string } | undefined>('id');
  const hasLink = await db('portal_links').first<{ id: string } | undefined>('id');
  return [
    { key: 'phone', label: 'dashboard:home.checklist.phone', href: '/settings/branding', done: !!org.phone },
    {
      key: 'brand',
      label: 'dashboard:home.checklist.brand',
      href: '/settings/branding',
      done: !!org.logo_id || org.brand_color !== DEFAULT_BRAND_COLOR,
    },
    { key: 'customer', label: 'dashboard:home.checklist.customer', href: '/customers/new', done: !!hasLead },
    { key: 'link', label: 'dashboard:home.checklist.link', href: '/customers', done: !!hasLink },
    { key: 'stripe', label: 'dashboard:home.checklist.stripe', href: '/settings/payments', done: org.stripe_charges_enabled },
  ];
}

/** Everything about one customer: their records, balance, portal link and messages. */
export async function loadCustomerPage(db: Db, leadId: string) {
  const lead = await getLead(db, leadId);
  const proposals = await listProposals(db, { leadId: lead.id, limit: 100 });
  const jobs = await listJobs(db, { leadId: lead.id, limit: 100 });
  const invoices = await listInvoices(db, { leadId: lead.id, limit: 100 });
  const payments = await listPayments(db, { leadId: lead.id, limit: 100 });
  const balance = await openBalance(db, lead.id);
  const portalPanel = await loadPortalPanel(db, lead);
  const messagingPanel = await loadMessagingPanel(db, lead);
  const properties = await listProperties(db, lead.id);
  // With several properties each record says which one it is for (none: the main, first one).
  const names = new Map(properties.map((p) => [p.id, p.label || p.address]));
  const withProperty = <T extends { property_id: string | null }>(rows: T[]) =>
    properties.length > 1 ? rows.map((r) => ({ ...r, property_name: names.get(r.property_id ?? properties[0].id) })) : rows;
  return {
    title: leadName(lead),
    lead,
    name: leadName(lead),
    properties,
    severalProperties: properties.length > 1,
    proposals: withProperty(proposals),
    jobs: withProperty(jobs),
    invoices: withProperty(invoices),
    payments,
    balance,
    portalPanel,
    messagingPanel,
  };
}
