// Turns one portal page's data into the locals its Handlebars view needs.
import { PAGE_SIZE, type ListTab, type PortalJob, type PortalPageData } from '../db/portal-page.js';
import { balanceOf } from '../lib/balance.js';
import { isPastDay } from '../lib/dates.js';
import { brandPalette } from '../lib/contrast.js';
import { countedPagination } from '../lib/pagination.js';
import { planFor } from '../plans.js';
import { proposalContentSha256 } from '../proposals/queries.js';
import { portalFormToken } from '../portal-links/token.js';

const TAB_LABELS: Record<ListTab, string> = {
  proposals: 'Proposals',
  invoices: 'Invoices',
  payments: 'Payments',
  history: 'Service History',
};

const TAB_ORDER: ListTab[] = ['proposals', 'invoices', 'payments', 'history'];

/** wa.me link with a message naming the customer and, on a document page, the document. */
export function whatsappHref(number: string | null, orgName: string, customerName: string, about?: string): string | null {
  if (!number) return null;
  const digits = number.replace(/\D/g, '');
  if (!digits) return null;
  const text = `Hello ${orgName}, this is ${customerName}.${about ? ` I have a question about ${about}.` : ''}`;
  return `https://wa.me/${digits}?text=${encodeURIComponent(text)}`;
}

export interface RenderedPortalPage {
  view: string;
  locals: Record<string, unknown>;
}

export interface ViewExtras {
  errors?: Record<string, string>;
  formError?: string;
  values?: Record<string, unknown>;
  result?: string;
  page?: number;
  /** Which form a 422 re-render belongs to. */
  decision?: 'approve' | 'reject';
  /** The approval was refused because the proposal changed after the customer opened it. */
  proposalChanged?: boolean;
}

export function portalPageLocals(token: string, page: PortalPageData, extras: ViewExtras = {}): RenderedPortalPage {
  const base = `/p/${token}`;
  const plan = planFor(page.org.plan);
  const customerName = [page.lead.first_name, page.lead.last_name].filter(Boolean).join(' ');
  const activeTab: ListTab = page.tab === 'proposal' ? 'proposals' : page.tab === 'invoice' ? 'invoices' : page.tab;
  const tabs = TAB_ORDER.map((key) => ({ key, label: TAB_LABELS[key], href: `${base}/${key}`, current: key === activeTab }));
  let about: string | undefined;
  let title = TAB_LABELS[activeTab];
  const data: Record<string, unknown> = {};

  switch (page.tab) {
    case 'proposal':
      if (page.data) {
        about = `proposal #${page.data.number}`;
        title = `Proposal #${page.data.number}`;
      }
      data.proposal = page.data;
      // Past its valid-until date (in the business's zone): no Approve form; the route refuses one too.
      data.expired = page.data?.status === 'pending' && isPastDay(page.data.valid_until, page.org.time_zone);
      data.canDecide = plan.onlineApproval && page.data?.status === 'pending' && !data.expired;
      // The approval form names exactly what is on screen; an edit made meanwhile makes the approval refuse.
      if (data.canDecide && page.data) {
        data.contentSha256 = proposalContentSha256(
          page.data,
          page.data.items.map((item, index) => ({ ...item, position: item.position ?? index })),
        );
      }
      data.readOnlyPending = !plan.onlineApproval && page.data?.status === 'pending' && !data.expired;
      break;
    case 'invoice':
      if (page.data) {
        about = `invoice #${page.data.number}`;
        title = `Invoice #${page.data.number}`;
        data.invoice = { ...page.data, balance_cents: balanceOf(page.data) };
      }
      break;
    case 'invoices':
      data.rows = page.data.rows.map((r) => ({ ...r, balance_cents: balanceOf(r) }));
      break;
    case 'history': {
      const upcoming: PortalJob[] = [];
      const completed: PortalJob[] = [];
      for (const job of page.data.rows) (job.status === 'completed' ? completed : upcoming).push(job);
      data.upcoming = upcoming;
      data.completed = completed;
      break;
    }
    case 'payments':
      data.rows = page.data.rows;
      data.balance_cents = page.data.balance_cents;
      break;
    case 'proposals':
      data.rows = page.data.rows;
      break;
  }

  if (page.tab === 'proposals' || page.tab === 'invoices' || page.tab === 'payments' || page.tab === 'history') {
    data.pagination = countedPagination(page.data.total, extras.page ?? 1, `${base}/${page.tab}`, {}, PAGE_SIZE);
    data.total = page.data.total;
  }

  return {
    view: `portal/${page.tab}`,
    locals: {
      layout: 'portal',
      title: `${title} · ${page.org.name}`,
      heading: title,
      org: page.org,
      brand: brandPalette(page.org.brand_color),
      logoUrl: page.org.logo_sha256 ? `/logos/${page.org.logo_sha256}` : null,
      customerName,
      tabs,
      base,
      whatsapp: whatsappHref(page.org.whatsapp_number, page.org.name, customerName, about),
      formToken: portalFormToken(page.link_id),
      onlineApproval: plan.onlineApproval,
      ...data,
      ...extras,
    },
  };
}
