// Turns one portal page's data into the locals its Handlebars view needs.
import { PAGE_SIZE, type ListTab, type PortalJob, type PortalPageData, type ProposalDetail } from '../db/portal-page.js';
import { customerLanguage, formatLocale, LANGUAGES, t, type Language } from '../i18n/index.js';
import { balanceOf } from '../lib/balance.js';
import { brandPalette } from '../lib/contrast.js';
import { formatArrivalWindow, formatDateTime, isPastDay } from '../lib/dates.js';
import { formatMoney } from '../lib/money.js';
import { countedPagination, jobStatusShown } from '../lib/pagination.js';
import { planFor } from '../plans.js';
import { proposalContentSha256 } from '../proposals/queries.js';
import { portalFormToken } from '../portal-links/token.js';
import type { ChoiceInput } from '../lib/line-options.js';
import { proposalChoiceLocals } from './choices.js';
import { portalContact, waMe } from './contact.js';
import { portalIcons } from './icons.js';
import { payableFromList } from './pay.js';
import { proposalRevisionLocals } from './versions.js';

const tabLabel = (lang: Language, tab: ListTab) => t(lang, `portal:tabs.${tab}`);

/** The statuses each kind of record shows the customer (their words: portal:status.<kind>.<status>). */
const STATUSES = {
  proposal: ['pending', 'changes_requested', 'approved', 'rejected'],
  invoice: ['open', 'partially_paid', 'paid', 'void'],
  payment: ['pending', 'succeeded', 'failed', 'refunded'],
  job: ['scheduled', 'to_schedule', 'in_progress', 'completed'],
} as const;

type StatusWords = Record<keyof typeof STATUSES, Record<string, string>>;
const statusWordsByLanguage = new Map<Language, StatusWords>();

/** Status words as the customer reads them (the dashboard's words are the business's), built once per language. */
function statusWordsIn(lang: Language): StatusWords {
  let words = statusWordsByLanguage.get(lang);
  if (!words) {
    words = Object.fromEntries(
      Object.entries(STATUSES).map(([kind, statuses]) => [
        kind,
        Object.fromEntries(statuses.map((status) => [status, t(lang, `portal:status.${kind}.${status}`)])),
      ]),
    ) as StatusWords;
    statusWordsByLanguage.set(lang, words);
  }
  return words;
}

/** Who reads a portal page: their language, and the locale numbers and dates are written in. */
export interface PortalReader {
  lang: Language;
  formatLocale: string;
}

/**
 * The customer's language (stored on them, else their browser's, else the
 * business's) in the business's country: es + en-US → es-US.
 */
export function portalReader(
  page: { lead: { language?: string | null }; org: { locale: string } },
  browser: Language | null,
): PortalReader {
  const lang = customerLanguage(page.lead.language, browser, page.org.locale);
  return { lang, formatLocale: formatLocale(lang, page.org.locale) };
}

/** The switch in the portal's header: each language, in its own words, the current one marked. */
function languageSwitch(lang: Language, back: string) {
  return { back, options: LANGUAGES.map((code) => ({ code, name: t(code, `portal:language.${code}`), current: code === lang })) };
}

/**
 * The property filter (a customer with one property or none sees none) and the list's
 * rows grouped by property: under headings when showing all of several properties.
 */
function propertyLocals(page: PortalPageData, base: string, tab: ListTab, lang: Language) {
  const many = page.properties.length > 1;
  const chosen = page.properties.find((p) => p.id === page.property_id) ?? null;
  const name = (p: { label: string; address: string }) => p.label || p.address;
  const filter = many
    ? {
        action: `${base}/${tab}`,
        options: [
          { value: '', label: t(lang, 'portal:page.allProperties'), selected: !chosen },
          ...page.properties.map((p) => ({ value: p.id, label: name(p), selected: p.id === chosen?.id })),
        ],
        chosen: chosen ? { ...chosen, name: name(chosen) } : null,
      }
    : null;
  function group<T extends { property_id?: string | null }>(rows: T[]) {
    if (!many || chosen) return [{ heading: null, rows }];
    return page.properties
      .map((p) => ({ heading: { name: name(p), address: p.label ? p.address : null }, rows: rows.filter((r) => r.property_id === p.id) }))
      .filter((g) => g.rows.length > 0);
  }
  return { filter, group, query: chosen ? { property: chosen.id } : ({} as Record<string, string>) };
}

const TAB_ORDER: ListTab[] = ['proposals', 'invoices', 'payments', 'history'];

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
  decision?: 'approve' | 'reject' | 'changes';
  /** The approval was refused because the proposal changed after the customer opened it. */
  proposalChanged?: boolean;
  /** The customer opened the link itself (the landing page), not a tab. */
  home?: boolean;
  /** An earlier version of the proposal (portal/proposal-version), not the current one. */
  version?: number;
  /** The customer's picks among optional lines and alternatives, as last submitted. */
  choice?: ChoiceInput;
  /** Where the language switch leads back to, under the link (a GET page's path and query). */
  back?: string;
}

/** A visit as the customer reads it: the day, the arrival window, the technician. */
function visit(job: PortalJob, org: PortalPageData['org'], locale: string) {
  const stage = visitStage(job);
  return {
    ...job,
    stage,
    past: stage === 'past',
    // A visit made by an approval has no day yet: "to be scheduled", not "Scheduled" (the dashboard's rule too).
    shown_status: jobStatusShown(job),
    arrival: job.status === 'completed' ? null : formatArrivalWindow(job.scheduled_at, job.arrival_window_minutes, org.time_zone, locale),
  };
}

type VisitJob = { status: string; scheduled_at: string | null; arrival_window_minutes: number };

/** Where a visit stands for the customer: done, under way, no day yet, still to come, or its arrival window gone by. */
function visitStage(job: VisitJob, now = new Date()): 'done' | 'under_way' | 'unscheduled' | 'to_come' | 'past' {
  if (job.status === 'completed') return 'done';
  if (job.status === 'in_progress') return 'under_way';
  if (!job.scheduled_at) return 'unscheduled';
  const windowEnds = new Date(job.scheduled_at).getTime() + job.arrival_window_minutes * 60_000;
  return windowEnds > now.getTime() ? 'to_come' : 'past';
}

/**
 * The line about the visit under an approved proposal: "planned" only for one still to come,
 * "completed" once done; a visit with no day yet will be scheduled.
 */
function approvedVisitNote(job: NonNullable<ProposalDetail['job']>, org: PortalPageData['org'], reader: PortalReader): string | null {
  const { lang } = reader;
  const stage = visitStage(job);
  if (stage === 'done') return t(lang, 'portal:proposal.visitDone');
  if (stage === 'under_way') return t(lang, 'portal:proposal.visitUnderWay');
  if (stage === 'unscheduled') return t(lang, 'portal:proposal.visitToSchedule', { org: org.name });
  const arrival = formatArrivalWindow(job.scheduled_at, job.arrival_window_minutes, org.time_zone, reader.formatLocale);
  if (!arrival) return null;
  // The window ends in "p.m." in Spanish, the technician's name may end in "M.": t() writes one full stop after either.
  if (stage === 'past') return t(lang, 'portal:proposal.visitWasSet', arrival);
  return job.technician
    ? t(lang, 'portal:proposal.visitPlannedWith', { ...arrival, technician: job.technician })
    : t(lang, 'portal:proposal.visitPlanned', arrival);
}

/** "Approved by … on …." under an approved proposal (a time in Spanish ends in "p.m."). */
function approvedLine(proposal: ProposalDetail, org: PortalPageData['org'], reader: PortalReader): string {
  const date = formatDateTime(proposal.approved_at, org.time_zone, reader.formatLocale);
  return t(reader.lang, 'portal:proposal.approvedBy', { name: proposal.approved_by_name, date });
}

export function portalPageLocals(
  token: string,
  page: PortalPageData,
  extras: ViewExtras = {},
  reader: PortalReader = portalReader(page, null),
): RenderedPortalPage {
  const { lang } = reader;
  const base = `/p/${token}`;
  const plan = planFor(page.org.plan);
  const customerName = [page.lead.first_name, page.lead.last_name].filter(Boolean).join(' ');
  const activeTab: ListTab = page.tab === 'proposal' ? 'proposals' : page.tab === 'invoice' ? 'invoices' : page.tab;
  // A customer with nothing yet lands on a welcome rather than an empty tab.
  const welcome = !!extras.home && page.waiting.records === 0;
  const properties = propertyLocals(page, base, activeTab, lang);
  const keep = properties.query.property ? `?property=${properties.query.property}` : '';
  const counts: Partial<Record<ListTab, number>> = { proposals: page.waiting.proposals, invoices: page.waiting.invoices };
  const tabs = TAB_ORDER.map((key) => ({
    key,
    label: tabLabel(lang, key),
    href: `${base}/${key}${keep}`,
    current: !welcome && key === activeTab,
    waiting: counts[key] || 0,
  }));
  let about: string | undefined;
  let title = tabLabel(lang, activeTab);
  const data: Record<string, unknown> = {};

  switch (page.tab) {
    case 'proposal':
      if (page.data) {
        about = t(lang, 'portal:page.aboutProposal', { number: page.data.number });
        title = t(lang, 'portal:page.proposalTitle', { number: page.data.number });
        if (page.data.status === 'approved') {
          data.approvedLine = approvedLine(page.data, page.org, reader);
          data.visitNote = page.data.job ? approvedVisitNote(page.data.job, page.org, reader) : null;
        }
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
      // Optional lines and alternatives: the choice form, and the totals of the picks on screen.
      if (page.data) Object.assign(data, proposalChoiceLocals(page.data, extras.choice, Boolean(data.canDecide)));
      data.readOnlyPending = !plan.onlineApproval && page.data?.status === 'pending' && !data.expired;
      if (page.data) Object.assign(data, proposalRevisionLocals(page.data, plan.onlineApproval, extras.version));
      if (page.data) data.currentVersionHref = `${base}/proposals/${page.data.id}`;
      // On a plan without online approval, the customer accepts by message: links that say so.
      if (data.readOnlyPending && page.data) {
        const amount = formatMoney(page.data.total_cents, page.org.currency, reader.formatLocale);
        const accept = t(lang, 'portal:accept.message', { number: page.data.number, title: page.data.title, amount });
        const subject = t(lang, 'portal:accept.subject', { number: page.data.number });
        const body = t(lang, 'portal:accept.email', { org: page.org.name, accept, customer: customerName });
        data.accept = {
          email: page.org.email ? `mailto:${page.org.email}?subject=${encodeURIComponent(subject)}&body=${encodeURIComponent(body)}` : null,
          whatsapp: waMe(
            page.org.whatsapp_number,
            t(lang, 'portal:accept.whatsapp', { org: page.org.name, customer: customerName, accept }),
          ),
        };
      }
      break;
    case 'invoice':
      if (page.data) {
        about = t(lang, 'portal:page.aboutInvoice', { number: page.data.number });
        title = t(lang, 'portal:page.invoiceTitle', { number: page.data.number });
        data.invoice = { ...page.data, balance_cents: balanceOf(page.data) };
      }
      break;
    case 'invoices':
      data.rows = page.data.rows.map((r) => ({ ...r, balance_cents: balanceOf(r), payable: payableFromList(page, r) }));
      data.groups = properties.group(data.rows as typeof page.data.rows);
      break;
    case 'history': {
      // A visit whose day has gone by is past even when the business hasn't marked it done yet.
      const visits = page.data.rows.map((job) => visit(job, page.org, reader.formatLocale));
      data.upcoming = visits.filter((v) => v.stage !== 'done' && v.stage !== 'past');
      // Latest first, as the page's query orders the completed ones: a forgotten one sits among them by its day.
      const day = (v: (typeof visits)[number]) => new Date(v.completed_at ?? v.scheduled_at ?? 0).getTime();
      data.past = visits.filter((v) => v.stage === 'done' || v.stage === 'past').sort((a, b) => day(b) - day(a));
      break;
    }
    case 'payments':
      data.rows = page.data.rows;
      data.balance_cents = page.data.balance_cents;
      break;
    case 'proposals':
      data.rows = page.data.rows;
      data.groups = properties.group(page.data.rows);
      break;
  }

  if (page.tab === 'proposals' || page.tab === 'invoices' || page.tab === 'payments' || page.tab === 'history') {
    data.pagination = countedPagination(page.data.total, extras.page ?? 1, `${base}/${page.tab}`, properties.query, PAGE_SIZE);
    data.propertyFilter = properties.filter;
    data.total = page.data.total;
  }
  if (welcome) title = t(lang, 'portal:page.welcomeTitle', { name: page.lead.first_name });

  const contact = portalContact(page.org, customerName, about, lang);
  return {
    // i18n-exempt: a view or layout name
    view: welcome ? 'portal/welcome' : extras.version ? 'portal/proposal-version' : `portal/${page.tab}`,
    locals: {
      layout: 'portal',
      title: t(lang, 'portal:page.title', { title, org: page.org.name }),
      description: t(lang, 'portal:page.description', { title, org: page.org.name, customer: customerName }),
      heading: title,
      org: page.org,
      brand: brandPalette(page.org.brand_color),
      logoUrl: page.org.logo_sha256 ? `/logos/${page.org.logo_sha256}` : null,
      customerName,
      firstName: page.lead.first_name,
      tabs,
      base,
      contact,
      whatsapp: contact.whatsapp,
      icons: portalIcons,
      statusWords: statusWordsIn(lang),
      lang,
      formatLocale: reader.formatLocale,
      languageSwitch: languageSwitch(lang, extras.back ?? ''),
      formToken: portalFormToken(page.link_id),
      welcome,
      onlineApproval: plan.onlineApproval,
      ...data,
      ...extras,
    },
  };
}
