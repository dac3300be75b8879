// Sending portal links by SMS and email: contractor pages (mounted after session + CSRF).
//   GET  /customers/:id/send          destination + rendered message, confirm button
//   POST /customers/:id/send          store the delivery, then enqueue (after commit)
//   POST /customers/:id/send/link     make the customer's portal link (Free limit applies), back to the page
//   GET  /customers/:id/send/email.html  the branded HTML email as the customer will see it
//   GET  /messages, /messages/:deliveryId, /messages/:deliveryId/email.html
//   GET|POST /settings/messages, POST /settings/messages/preview   template editor
//   GET  /dev/outbox                  development only
import { Router, type Response } from 'express';
import { config } from '../config.js';
import type { Actor } from '../db/audit.js';
import type { OrgRow } from '../db/rows.js';
import type { Db } from '../db/tenancy.js';
import { LANGUAGES, languageOf, t, translate, type Language } from '../i18n/index.js';
import { orgPage, type PageResult } from '../http/page.js';
import { FormError, HttpError, notFound } from '../lib/errors.js';
import { parseForm } from '../lib/forms.js';
import { pageOf, pageWindow } from '../lib/pagination.js';
import { smsSize } from '../lib/sms.js';
import { phoneText } from '../lib/phone.js';
import { devAccountEmails } from '../mail/account-email.js';
import { generatePortalLink } from '../portal-links/commands.js';
import { activePortalLink, PortalLinkLimitError } from '../portal-links/queries.js';
import { issueInvoice } from '../invoices/commands.js';
import { markProposalSent } from '../proposals/commands.js';
import { markRevisionSent } from '../proposals/revisions.js';
import { resetTemplate, saveTemplate, storeDelivery } from './commands.js';
import { dispatchDelivery } from './outbox.js';
import {
  CHANNEL_LABELS,
  CONTEXT_LABELS,
  CONTEXTS,
  CHANNELS,
  DELIVERY_STATUSES,
  messageLogQuerySchema,
  sendFormSchema,
  sendQuerySchema,
  templateFormSchema,
  templateQuerySchema,
  type SendQuery,
} from './schema.js';
import { brandingOf } from '../db/email-layout.js';
import { getDelivery, messageLog, previewSend, type SendPreview } from './queries.js';
import {
  TEMPLATE_VARIABLES,
  sampleVars,
  checkMessageTemplate,
  defaultTemplate,
  loadTemplate,
  renderMessage,
  storedTemplateProblem,
  type RenderedMessage,
  type TemplateSource,
} from './templates.js';

export const adminRouter = Router();

function sendLocals(org: OrgRow, preview: SendPreview, extra: Record<string, unknown> = {}) {
  const lang = languageOf(org.locale);
  const q = preview.query;
  const otherChannel = q.channel === 'sms' ? 'email' : 'sms';
  // The same message on either channel: the record it is about goes with it (a proposal sent by email opens it too).
  const paramsFor = (channel: string) => {
    const params = new URLSearchParams({ channel, context: q.context });
    if (q.proposalId) params.set('proposalId', q.proposalId);
    if (q.invoiceId) params.set('invoiceId', q.invoiceId);
    if (q.jobId) params.set('jobId', q.jobId);
    return params.toString();
  };
  return {
    title: t(lang, 'messages:sendPage.title', { name: preview.lead.first_name }),
    preview,
    contexts: CONTEXTS.map((value) => ({ value, label: t(lang, CONTEXT_LABELS[value]), selected: value === q.context })),
    otherChannelLabel: t(lang, CHANNEL_LABELS[otherChannel]).toLowerCase(),
    // i18n-exempt: addresses, headers and view names
    otherChannelUrl: `/customers/${preview.lead.id}/send?${paramsFor(otherChannel)}`,
    // i18n-exempt: addresses, headers and view names
    emailPreviewUrl: `/customers/${preview.lead.id}/send/email.html?${paramsFor(q.channel)}`,
    smsSize: preview.channel === 'sms' && preview.message ? smsSize(preview.message.text, lang) : undefined,
    ...extra,
  };
}

/**
 * A draft proposal goes out with the message (status pending), and so does a
 * revision after the customer asked for changes (the next version, the old one
 * superseded); any other status stays as it is.
 */
async function sendDraftProposal(db: Db, proposalId: string, actor: Actor): Promise<boolean> {
  const row = await db('proposals').where({ id: proposalId }).first<{ status: string } | undefined>('status');
  if (row?.status === 'changes_requested') {
    await markRevisionSent(db, proposalId, actor);
    return true;
  }
  if (row?.status !== 'draft') return false;
  await markProposalSent(db, proposalId, actor);
  return true;
}

/** What sending also opened to the customer: a draft proposal or a draft invoice. */
function nowOpen(lang: Language, preview: SendPreview, proposalNowSent: boolean, invoiceIssued: boolean): string {
  if (proposalNowSent) return t(lang, 'messages:sendPage.proposalOpen', { number: preview.record.proposalNumber });
  if (invoiceIssued) return t(lang, 'messages:sendPage.invoiceIssued', { number: preview.record.invoiceNumber });
  return '';
}

/** The send page's address for this query (after making the link, or on a refusal). */
function sendPageUrl(leadId: string, q: SendQuery): string {
  const params = new URLSearchParams({ channel: q.channel, context: q.context });
  if (q.proposalId) params.set('proposalId', q.proposalId);
  if (q.invoiceId) params.set('invoiceId', q.invoiceId);
  if (q.jobId) params.set('jobId', q.jobId);
  return `/customers/${leadId}/send?${params.toString()}`;
}

function parseSendQuery(input: unknown): SendQuery {
  return parseForm(sendQuerySchema, input);
}

adminRouter.get(
  '/customers/:id/send',
  orgPage(async ({ req, db, org }) => {
    let query: SendQuery;
    try {
      query = parseSendQuery(req.query);
    } catch (err) {
      if (!(err instanceof FormError)) throw err;
      query = parseSendQuery({});
      const preview = await previewSend(db, org, String(req.params.id), query);
      return { render: 'admin/messages/send', status: 400, locals: sendLocals(org, preview, { formError: err.message }) };
    }
    const preview = await previewSend(db, org, String(req.params.id), query);
    return { render: 'admin/messages/send', locals: sendLocals(org, preview) };
  }),
);

adminRouter.post(
  '/customers/:id/send',
  orgPage(async ({ req, db, org, actor }) => {
    const leadId = String(req.params.id);
    let form: ReturnType<typeof sendFormSchema.parse>;
    try {
      form = parseForm(sendFormSchema, req.body);
    } catch (err) {
      if (!(err instanceof FormError)) throw err;
      const fallback = sendQuerySchema.safeParse(req.body);
      const preview = await previewSend(db, org, leadId, fallback.success ? fallback.data : parseSendQuery({}));
      return { render: 'admin/messages/send', status: 422, locals: sendLocals(org, preview, { formError: err.message }) };
    }
    const lang = languageOf(org.locale);
    const preview = await previewSend(db, org, leadId, form);
    const changed = !preview.problems.length && preview.to !== form.confirmTo;
    if (preview.problems.length || changed) {
      const formError = changed
        ? t(lang, form.channel === 'sms' ? 'messages:sendPage.changed_sms' : 'messages:sendPage.changed_email')
        : preview.problems[0];
      // Nothing was written; answer 422 with the page as it is now.
      return { render: 'admin/messages/send', status: 422, locals: sendLocals(org, preview, { formError }) };
    }
    // "Issue and send": a draft invoice is issued (with issueInvoice's own rules) in the same transaction as the
    // delivery row, so either both happen or, if issuing is refused, neither does.
    const issuing = preview.record.invoiceDraft && preview.record.invoiceId ? preview.record.invoiceId : null;
    if (issuing) {
      try {
        await issueInvoice(db, issuing, actor);
      } catch (err) {
        if (!(err instanceof HttpError) || err.status !== 409) throw err;
        return { render: 'admin/messages/send', status: 409, locals: sendLocals(org, preview, { formError: err.message }) };
      }
    }
    const stored = await storeDelivery(db, preview, actor);
    // Sending a draft proposal is what sends it: it becomes pending (the customer can see it) in the same transaction.
    const proposalId = preview.context === 'proposal' ? preview.record.proposalId : undefined;
    const proposalNowSent = proposalId ? await sendDraftProposal(db, proposalId, actor) : false;
    const also = nowOpen(lang, preview, proposalNowSent, issuing !== null);
    return {
      redirect: `/messages/${stored.id}`,
      flash: t(lang, preview.channel === 'sms' ? 'messages:sendPage.queuedSms' : 'messages:sendPage.queuedEmail', {
        // As the Send button named it: a number the way the business's country writes it.
        to: preview.channel === 'sms' ? phoneText(preview.to, org.locale) : preview.to,
        also,
      }),
      // The job is added only once the row is committed: a worker must never pick up a job whose row isn't visible.
      afterCommit: async () => {
        await dispatchDelivery({ deliveryId: stored.id, orgId: org.id });
      },
    };
  }),
);

// "Send to customer" for someone without a link: make it here (the Free limit applies), then back to the message.
adminRouter.post(
  '/customers/:id/send/link',
  orgPage(async ({ req, db, org, actor }) => {
    const leadId = String(req.params.id);
    const query = sendQuerySchema.safeParse(req.body);
    const back = sendPageUrl(leadId, query.success ? query.data : parseSendQuery({}));
    try {
      const { created } = await generatePortalLink(db, leadId, actor);
      return { redirect: back, flash: created ? t(languageOf(org.locale), 'messages:sendPage.linkCreated') : undefined };
    } catch (err) {
      if (err instanceof PortalLinkLimitError) return { redirect: back, flash: err.message, flashType: 'error' };
      throw err;
    }
  }),
);

/** Raw branded HTML, shown on its own page: the admin CSP forbids the inline styles email needs. */
function emailHtml(res: Response, html: string): PageResult {
  // i18n-exempt: addresses, headers and view names
  res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data: https:; frame-ancestors 'none'");
  // i18n-exempt: a view name
  return { render: 'admin/messages/raw-html', locals: { layout: false, html } };
}

adminRouter.get(
  // i18n-exempt: addresses, headers and view names
  '/customers/:id/send/email.html',
  orgPage(async ({ req, res, db, org }) => {
    const query = parseSendQuery({ ...req.query, channel: 'email' });
    const preview = await previewSend(db, org, String(req.params.id), query);
    if (!preview.message?.html) throw notFound('messages:notFound.nothingToPreview');
    return emailHtml(res, preview.message.html);
  }),
);

adminRouter.get(
  '/messages',
  orgPage(async ({ req, db, org }) => {
    const lang = languageOf(org.locale);
    const filter = messageLogQuerySchema.safeParse(req.query);
    const query = filter.success ? filter.data : { page: 1, status: undefined };
    const rows = await messageLog(db, { status: query.status, ...pageWindow(query.page) });
    const page = pageOf(rows, query.page, '/messages', query.status ? { status: query.status } : {});
    return {
      render: 'admin/messages/index',
      locals: {
        title: t(lang, 'messages:log.title'),
        rows: page.rows,
        statuses: DELIVERY_STATUSES.map((value) => ({
          value,
          label: t(lang, `messages:statusFilter.${value}`),
          selected: value === query.status,
        })),
        pagination: page.pagination,
      },
    };
  }),
);

adminRouter.get(
  '/messages/:deliveryId',
  orgPage(async ({ req, db, org }) => {
    const delivery = await getDelivery(db, String(req.params.deliveryId));
    return { render: 'admin/messages/show', locals: { title: t(languageOf(org.locale), 'messages:show.title'), delivery } };
  }),
);

adminRouter.get(
  // i18n-exempt: addresses, headers and view names
  '/messages/:deliveryId/email.html',
  orgPage(async ({ req, res, db }) => {
    const delivery = await getDelivery(db, String(req.params.deliveryId));
    if (!delivery.body_html) throw notFound('messages:notFound.noHtml');
    return emailHtml(res, delivery.body_html);
  }),
);

// --- templates editor -------------------------------------------------------

interface EditorState {
  channel: (typeof CHANNELS)[number];
  context: (typeof CONTEXTS)[number];
  /** The language whose wording is edited. */
  language: Language;
  subject: string;
  body: string;
  custom: boolean;
}

function samplePreview(org: OrgRow, state: EditorState): RenderedMessage {
  const template: TemplateSource = { subject: state.channel === 'email' ? state.subject : null, body: state.body };
  return renderMessage(
    state.channel,
    template,
    { ...sampleVars(state.language, org.locale), businessName: org.name },
    brandingOf(org),
    state.language,
  );
}

async function editorLocals(db: Db, org: OrgRow, state: EditorState, extra: Record<string, unknown> = {}) {
  const lang = languageOf(org.locale);
  const overrides = await db('message_templates').select<{ channel: string; context: string; language: string }[]>(
    'channel',
    'context',
    'language',
  );
  const custom = new Set(overrides.map((o) => `${o.language}/${o.channel}/${o.context}`));
  let preview: RenderedMessage | null = null;
  if (!extra.errors) {
    try {
      preview = samplePreview(org, state);
    } catch (err) {
      if (!(err instanceof FormError)) throw err;
    }
  }
  return {
    title: t(lang, 'messages:editor.title'),
    state,
    isEmail: state.channel === 'email',
    variables: TEMPLATE_VARIABLES.map((v) => `{{${v}}}`),
    // One list per language: each language's wording of each channel + context.
    languages: LANGUAGES.map((language) => ({
      language,
      name: t(lang, `messages:language.${language}`),
      templates: CHANNELS.flatMap((channel) =>
        CONTEXTS.map((context) => ({
          channel,
          context,
          language,
          label: `${t(lang, CHANNEL_LABELS[channel])} · ${t(lang, CONTEXT_LABELS[context])}`,
          current: channel === state.channel && context === state.context && language === state.language,
          custom: custom.has(`${language}/${channel}/${context}`),
        })),
      ),
    })),
    preview,
    previewSize: preview && state.channel === 'sms' ? smsSize(preview.text, lang) : undefined,
    ...extra,
  };
}

// Org-wide wording, like branding: only owners change it.
adminRouter.get(
  '/settings/messages',
  orgPage(
    async ({ req, db, org }) => {
      const parsed = templateQuerySchema.safeParse(req.query);
      const { channel, context, language: asked } = parsed.success ? parsed.data : templateQuerySchema.parse({});
      const language = asked ?? languageOf(org.locale);
      const template = await loadTemplate(db, channel, context, language);
      const state: EditorState = {
        channel,
        context,
        language,
        subject: template.subject ?? '',
        body: template.body,
        custom: template.custom,
      };
      // Saved before today's checks: shown for fixing, while messages go out with the default wording.
      const problem = template.custom ? storedTemplateProblem(channel, template) : null;
      const extra = problem
        ? {
            errors: problem,
            formError: 'messages:editor.storedProblem',
          }
        : {};
      return { render: 'admin/settings/messages', locals: await editorLocals(db, org, state, extra) };
    },
    { ownerOnly: true },
  ),
);

adminRouter.post(
  '/settings/messages',
  orgPage(
    async ({ req, db, org, actor }) => {
      const raw = (req.body ?? {}) as Record<string, unknown>;
      const keys = templateQuerySchema.safeParse(raw);
      const { channel, context, language: asked } = keys.success ? keys.data : templateQuerySchema.parse({});
      const language = asked ?? languageOf(org.locale);
      // i18n-exempt: addresses, headers and view names
      const back = `/settings/messages?channel=${channel}&context=${context}&language=${language}`;
      const fallback: EditorState = {
        channel,
        context,
        language,
        subject: typeof raw.subject === 'string' ? raw.subject : '',
        body: typeof raw.body === 'string' ? raw.body : '',
        custom: false,
      };
      let form: ReturnType<typeof templateFormSchema.parse>;
      try {
        form = parseForm(templateFormSchema, raw);
        if (form.intent === 'reset') {
          await resetTemplate(db, channel, context, language, actor);
          return { redirect: back, flash: t(languageOf(org.locale), 'messages:editor.reset') };
        }
        checkMessageTemplate(form.channel, form.subject, form.body);
      } catch (err) {
        if (!(err instanceof FormError)) throw err;
        const locals = await editorLocals(db, org, fallback, { errors: err.fields, formError: err.message });
        return { render: 'admin/settings/messages', status: 422, locals };
      }
      const state: EditorState = {
        channel: form.channel,
        context: form.context,
        language,
        subject: form.subject ?? '',
        body: form.body,
        custom: true,
      };
      if (form.intent === 'preview') {
        return { render: 'admin/settings/messages', locals: await editorLocals(db, org, state, { previewed: true }) };
      }
      const defaults = defaultTemplate(form.channel, form.context, language);
      const subject = form.channel === 'email' ? (form.subject ?? defaults.subject) : null;
      await saveTemplate(db, { orgId: org.id, channel: form.channel, context: form.context, language, subject, body: form.body }, actor);
      return {
        // i18n-exempt: addresses, headers and view names
        redirect: `/settings/messages?channel=${form.channel}&context=${form.context}&language=${language}`,
        flash: t(languageOf(org.locale), 'messages:editor.saved'),
      };
    },
    { ownerOnly: true },
  ),
);

/** Live preview for public/messages-preview.js: JSON, nothing saved. */
adminRouter.post(
  '/settings/messages/preview',
  orgPage(
    ({ req, org }) => {
      const lang = languageOf(org.locale);
      const form = templateFormSchema.safeParse({ ...(req.body as object), intent: 'preview' });
      if (!form.success) return { json: { ok: false, error: translate(lang, form.error.issues[0].message) }, status: 400 };
      try {
        checkMessageTemplate(form.data.channel, form.data.subject, form.data.body);
        const language = form.data.language ?? lang;
        const preview = samplePreview(org, { ...form.data, language, subject: form.data.subject ?? '', custom: true });
        const size = smsSize(preview.text, lang);
        return {
          json: {
            ok: true,
            subject: preview.subject,
            text: preview.text,
            length: preview.text.length,
            sizeNote: form.data.channel === 'sms' ? size.note : t(lang, 'messages:sms.characters', { count: preview.text.length }),
            overOneText: form.data.channel === 'sms' && size.segments > 1,
          },
        };
      } catch (err) {
        if (!(err instanceof FormError)) throw err;
        const fields = Object.fromEntries(Object.entries(err.fields).map(([name, message]) => [name, translate(lang, message)]));
        return { json: { ok: false, error: translate(lang, err.message), fields } };
      }
    },
    { ownerOnly: true },
  ),
);

// --- development outbox -----------------------------------------------------

adminRouter.get(
  '/dev/outbox',
  // Production: the route doesn't exist, logged in or not.
  (_req, _res, next) => (config.isProduction ? next('route') : next()),
  orgPage(async ({ db, org }) => {
    const rows = await messageLog(db, { limit: 50, offset: 0 });
    // The stored copy hides the link; here it can be opened (development only), if it still works.
    const withLinks = await Promise.all(
      rows.map(async (row) => {
        const link = await activePortalLink(db, row.lead_id);
        return { ...row, portalUrl: link && link.id === row.portal_link_id ? link.url : null };
      }),
    );
    return {
      render: 'admin/messages/outbox',
      locals: { title: t(languageOf(org.locale), 'messages:outbox.title'), rows: withLinks, accountEmails: devAccountEmails() },
    };
  }),
);
