// The customer portal: every /p/<token>/... route. No session: the token is the
// credential, so every request looks it up, and failed lookups are rate limited.
// Approving, rejecting and paying call the proposals, jobs and payments commands.
import {
  Router,
  type ErrorRequestHandler,
  type IRouter,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import type { RateLimitRequestHandler } from 'express-rate-limit';
import { recordAudit, type Actor } from '../db/audit.js';
import { portalLinkByTokenHash, type PortalLinkRef } from '../db/lookups.js';
import {
  loadPortalPage,
  loadPortalPageText,
  PAGE_SIZE,
  SAME_PAGE,
  TABS,
  type ListTab,
  type PortalPageData,
  type PortalView,
} from '../db/portal-page.js';
import { withOrg, type Db } from '../db/tenancy.js';
import { chosenProperty, mainProperty } from '../leads/queries.js';
import { translate, type Language } from '../i18n/index.js';
import { createRateLimiter } from '../http/security.js';
import { rejectUnsafeInput } from '../http/validate.js';
import { acceptedLanguage, isLanguage } from '../i18n/index.js';
import { FormError, HttpError, forbidden, notFound } from '../lib/errors.js';
import { requestLogger } from '../logger.js';
import { isPastDay } from '../lib/dates.js';
import { parseForm } from '../lib/forms.js';
import { uuidOrNull } from '../lib/ids.js';
import { choiceForm } from '../lib/line-options.js';
import { approveProposal } from '../jobs/approve-proposal.js';
import { dispatchDelivery } from '../messaging/outbox.js';
import { requestProposalChanges } from '../messaging/request-changes.js';
import { createWorkRequest, type NewWorkRequest } from '../requests/commands.js';
import { rescheduleForm, workRequestForm } from '../requests/schema.js';
import { createInvoiceCheckout, payForm } from '../payments/stripe/checkout.js';
import { paySeveralForm } from '../payments/stripe/split-checkout.js';
import { planFor } from '../plans.js';
import { hashPortalToken, isValidPortalFormToken, isWellFormedToken } from '../portal-links/token.js';
import { PROPOSAL_CHANGED, rejectProposal } from '../proposals/commands.js';
import { normalizeSignature } from '../proposals/signature-image.js';
import { getStripe } from '../stripe/client.js';
import { depositCheckoutAfterApproval, portalDepositLocals, startDepositCheckout } from './deposit.js';
import { autopayForm, changeAutopay, portalAutopayLocals, removeCard } from './autopay.js';
import { portalPayLocals } from './pay.js';
import { portalPaySeveralLocals, startSplitCheckout } from './pay-several.js';
import { checkoutReturnUrl, portalClientKey, portalHeaders, renderNotFound } from './responses.js';
import { recoveryAddressKey, recoveryPost } from './recover-handler.js';
import { approveChoiceForm, approveForm, changesForm, pageQuery, rejectForm, signatureForm } from './schema.js';
import { portalPageLocals, portalReader, type PortalReader, type ViewExtras } from './view-model.js';
import { normalizeRequestPhotos, parseRequestUpload, requestFormLocals, type RequestFormPage } from './request-form.js';
import { findVersion } from './versions.js';
import { keepPage, keptPage, NONCE_MARK, sendPage } from './page-cache.js';
import { deviceFamily, visitNetworkHash } from './visit.js';

/** Failed token lookups allowed per client per window before 429. */
const PORTAL_MISS_LIMIT = 20;
const PORTAL_MISS_WINDOW_MS = 10 * 60_000;
const PORTAL_PAY_LIMIT = 20;
const PORTAL_CHANGES_LIMIT = 10;
/** Requests for work and to reschedule, per client per hour (each may carry 5 photos to re-encode). */
const PORTAL_REQUEST_LIMIT = 10;
const PORTAL_REQUEST_WINDOW_MS = 60 * 60_000;
/** "Send me my link again": requests per client per hour, and per address per hour. */
const RECOVER_CLIENT_LIMIT = 10;
const RECOVER_CLIENT_WINDOW_MS = 60 * 60_000;
const RECOVER_ADDRESS_LIMIT = 3;
const RECOVER_ADDRESS_WINDOW_MS = 60 * 60_000;
/** Language switches per client per window (each is a write). */
const PORTAL_LANGUAGE_LIMIT = 30;
const PORTAL_LANGUAGE_WINDOW_MS = 10 * 60_000;

export { portalClientKey };

const PROPOSAL_EXPIRED = 'proposal_expired';
/** The outcomes a proposal or invoice page may announce after a redirect (?result=…; "paid": back from Checkout). */
const SHOWN_RESULTS = /^(approved|rejected|already|changes|paid|cancelled)$/;
const EXPIRED_MESSAGE = 'portal:proposal.expired';
/** Who asked, in the business's records (stored as written; the audit trail keeps its labels). */
// i18n-exempt: an audit label stored in the business's records, not a page's words
const CUSTOMER_LABEL = 'Customer (portal)';

const formExpired = () => new HttpError(403, 'csrf', 'portal:errors.formExpired');

/** Where the language switch leads back to: the path and query under the link, only when they are plainly that. */
const BACK = /^(\/[A-Za-z0-9._~%-]+)*\/?(\?[A-Za-z0-9._~%&=-]*)?$/;

/** The path of a GET page under its link ("/invoices?property=…"), for the language switch to come back to. */
function backPath(req: Request, token: string): string {
  // HEAD is the GET without its body: the same page, so the same headers (its Content-Length).
  if (req.method !== 'GET' && req.method !== 'HEAD') return '';
  const rest = req.originalUrl.slice(`/p/${token}`.length);
  return BACK.test(rest) ? rest : '';
}

/** Who reads this page, also set on res.locals for the layout and the money and date helpers. */
function readerFor(req: Request, res: Response, page: Parameters<typeof portalReader>[0]): PortalReader {
  const reader = portalReader(page, acceptedLanguage(req));
  res.locals.lang = reader.lang;
  res.locals.formatLocale = reader.formatLocale;
  return reader;
}

/** Counts failed lookups per client (in Redis when configured, so it holds across processes). */
export const portalMissLimiter = createRateLimiter({
  // i18n-exempt: a rate limiter name
  name: 'portal-miss',
  windowMs: PORTAL_MISS_WINDOW_MS,
  limit: PORTAL_MISS_LIMIT,
  keyGenerator: portalClientKey,
  message: 'portal:limits.miss',
}) as RateLimitRequestHandler;

/** Language switches per client (exported so tests can clear their count). */
export const portalLanguageLimiter = createRateLimiter({
  // i18n-exempt: a rate limiter name
  name: 'portal-language',
  windowMs: PORTAL_LANGUAGE_WINDOW_MS,
  limit: PORTAL_LANGUAGE_LIMIT,
  keyGenerator: portalClientKey,
  message: 'portal:limits.language',
}) as RateLimitRequestHandler;

/** Query parameters a portal page is read by (the list's page and property): any other may change what it shows. */
const VIEW_QUERY = new Set(['page', 'property']);

const NO_QUERY: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * A view's query parameters. Express parses req.query again on every read, and a page
 * opened from a link (most views) has none to parse (issue 16).
 */
function viewQuery(req: Request): Readonly<Record<string, unknown>> {
  return req.url.includes('?') ? req.query : NO_QUERY;
}

/** Whether a page shows only its data: no outcome of this request (a result, a refused form, a choice). */
function isPlainView(extras: ViewExtras, req: Request): boolean {
  return (
    Object.values(extras).every((value) => value === undefined || value === true) &&
    Object.keys(viewQuery(req)).every((name) => VIEW_QUERY.has(name))
  );
}

/** What a kept page is filed under (after its language): the link, then the view. */
function pageCacheKey(tokenHash: string, view: PortalView): string {
  switch (view.kind) {
    case 'home':
      return `${tokenHash}|home|${view.property ?? ''}`;
    case 'list':
      return `${tokenHash}|${view.tab}|${view.page}|${view.property ?? ''}`;
    default:
      return `${tokenHash}|${view.kind}|${view.id}`;
  }
}

/**
 * Where a request is for: a visit's own address and property; else one of the
 * customer's properties (checked to be theirs), else what they typed, else their
 * main property, else the address on file.
 */
async function whereFor(
  db: Db,
  leadId: string,
  input: { jobId?: string | null; propertyId?: string | null; address: string | null },
  onFile: string | null,
): Promise<{ propertyId: string | null; address: string | null }> {
  if (input.jobId) return { propertyId: input.propertyId ?? null, address: input.address || onFile };
  const chosen = await chosenProperty(db, leadId, input.propertyId, 'portal:request.errors.property');
  if (chosen) return { propertyId: chosen.id, address: chosen.address };
  if (input.address) return { propertyId: null, address: input.address };
  const main = await mainProperty(db, leadId);
  return { propertyId: main?.id ?? null, address: main?.address ?? onFile };
}

/**
 * What a view passes before its page, as one step of its route (issue 16: each
 * router step is a pass of its own): the portal's headers, then its input refused
 * as everywhere (headers first, so the refusal carries them too).
 */
const portalViewChecks: RequestHandler = (req, res, next) => {
  portalHeaders(req, res, (err?: unknown) => (err ? next(err) : rejectUnsafeInput(req, res, next)));
};

function createPortalRouter(): { mountViews: (app: IRouter) => void; router: Router } {
  const missLimiter = portalMissLimiter;
  const payLimiter = createRateLimiter({
    // i18n-exempt: a rate limiter name
    name: 'portal-pay',
    windowMs: 10 * 60_000,
    limit: PORTAL_PAY_LIMIT,
    keyGenerator: portalClientKey,
    message: 'portal:limits.pay',
  });
  const changesLimiter = createRateLimiter({
    // i18n-exempt: a rate limiter name
    name: 'portal-changes',
    windowMs: 10 * 60_000,
    limit: PORTAL_CHANGES_LIMIT,
    keyGenerator: portalClientKey,
    message: 'portal:limits.changes',
  });
  const requestLimiter = createRateLimiter({
    // i18n-exempt: a rate limiter name
    name: 'portal-request',
    windowMs: PORTAL_REQUEST_WINDOW_MS,
    limit: PORTAL_REQUEST_LIMIT,
    keyGenerator: portalClientKey,
    message: 'portal:limits.request',
  });
  const recoverClientLimiter = createRateLimiter({
    // i18n-exempt: a rate limiter name
    name: 'portal-recover-client',
    windowMs: RECOVER_CLIENT_WINDOW_MS,
    limit: RECOVER_CLIENT_LIMIT,
    keyGenerator: portalClientKey,
    message: 'portal:limits.recoverClient',
  });
  const recoverAddressLimiter = createRateLimiter({
    // i18n-exempt: a rate limiter name
    name: 'portal-recover-address',
    windowMs: RECOVER_ADDRESS_WINDOW_MS,
    limit: RECOVER_ADDRESS_LIMIT,
    keyGenerator: recoveryAddressKey,
    message: 'portal:limits.recoverAddress',
  });
  const languageLimiter = portalLanguageLimiter;
  // The portal's headers are set for all of /p in src/app.ts (CUSTOMER_PATHS), before the body parsers.
  const router = Router();

  // "Send me my link again" from the not-found page: per client, then per address.
  router.post('/recover', recoverClientLimiter, recoveryPost(recoverAddressLimiter));

  /** A failed lookup: counted against the client, then the one plain 404 (or 429 once over). */
  function miss(req: Request, res: Response, next: NextFunction): void {
    missLimiter(req, res, (err?: unknown) => (err ? next(err) : renderNotFound(res)));
  }

  // Only misses are counted and refused. A real link is always served, even to a
  // client over the limit: customers share IPs (an office, a carrier's NAT) and
  // one guesser must not lock them out. A hit tells a guesser nothing useful,
  // since a token is 256 random bits; the limit caps how fast anyone can miss.

  async function show(req: Request, res: Response, next: NextFunction, view: PortalView, extras: ViewExtras = {}, status = 200) {
    const token = String(req.params.token);
    if (!isWellFormedToken(token)) return miss(req, res, next);
    const tokenHash = hashPortalToken(token);
    // A page that is only the data (no outcome of this request on it) may be sent as last rendered.
    // What else it is rendered from is in the key: the browser's language (it decides the page's
    // language until the customer picks one) and the path the language switch comes back to.
    const cacheKey =
      status === 200 && isPlainView(extras, req)
        ? `${acceptedLanguage(req) ?? ''}|${pageCacheKey(tokenHash, view)}|${backPath(req, token)}`
        : null;
    const kept = cacheKey ? keptPage(cacheKey) : undefined;
    const text = await loadPortalPageText(
      tokenHash,
      view,
      {
        // i18n-exempt: HTTP header names and values
        device: deviceFamily(req.get('user-agent')),
        ipHash: visitNetworkHash(req.ip),
      },
      kept?.version ?? null,
    );
    if (text === null) return miss(req, res, next);
    // Nothing the kept page was rendered from has changed: Postgres did not build it again.
    if (kept && text === SAME_PAGE) return sendPage(req, res, kept);
    const page = JSON.parse(text) as PortalPageData;
    const reader = readerFor(req, res, page);
    // The link is good but the document isn't one it shows: said under the customer's own page, not
    // as a dead link, and not counted as a guess (the token was right).
    const missing =
      (page.tab === 'proposal' || page.tab === 'invoice') && (!page.data || (extras.version && !findVersion(page, extras.version)));
    if (missing) {
      const rendered = portalPageLocals(token, page, { back: backPath(req, token) }, reader);
      const back = `/p/${token}/${page.tab}s`;
      // i18n-exempt: a view name
      return res.status(404).render('portal/missing', { ...rendered.locals, missing: { kind: page.tab, back } });
    }
    // A page past the list's end (an old bookmark, a hand-typed number): its last page instead.
    if (
      view.kind === 'list' &&
      page.tab !== 'proposal' &&
      page.tab !== 'invoice' &&
      view.page > 1 &&
      !page.data.rows.length &&
      page.data.total > 0
    ) {
      const last = Math.ceil(page.data.total / PAGE_SIZE);
      const query = new URLSearchParams({ ...(view.property ? { property: view.property } : {}), page: String(last) });
      return res.redirect(303, `/p/${token}/${view.tab}?${query.toString()}`);
    }
    const rendered = portalPageLocals(
      token,
      page,
      { ...extras, page: view.kind === 'list' ? view.page : 1, back: backPath(req, token) },
      reader,
    );
    Object.assign(
      rendered.locals,
      portalPayLocals(page),
      portalDepositLocals(page, (rendered.locals.proposal as { total_cents?: number } | undefined)?.total_cents),
      portalPaySeveralLocals(page, viewQuery(req).paid === 'several'),
      portalAutopayLocals(page),
    );
    // A choice of lines that breaks the rules (a tampered form) is shown with its message, as a 422.
    const shownStatus = status === 200 && rendered.locals.choiceError ? 422 : status;
    if (!cacheKey || shownStatus !== 200) return res.status(shownStatus).render(rendered.view, rendered.locals);
    res.render(rendered.view, { ...rendered.locals, cspNonce: NONCE_MARK }, (err: unknown, html: string) => {
      if (err) return next(err);
      const keptNow = keepPage(cacheKey, page.version, html);
      if (keptNow) return sendPage(req, res, keptNow);
      // A page the cache can't allow by hashes: sent this once with this response's nonce.
      res.send(html.replaceAll(NONCE_MARK, res.locals.cspNonce as string));
    });
  }

  /** The link behind a form post and the document id, or null (a miss). */
  async function resolve(req: Request): Promise<{ token: string; id: string; link: PortalLinkRef } | null> {
    const token = String(req.params.token);
    const id = uuidOrNull(req.params.id);
    if (!isWellFormedToken(token) || !id) return null;
    const link = await portalLinkByTokenHash(hashPortalToken(token));
    return link ? { token, id, link } : null;
  }

  // --- Request work, ask to reschedule (the views' /:token/:tab passes "request" on to here) ---

  /** The link behind a request form, or null (a miss). */
  async function resolveLink(req: Request): Promise<{ token: string; link: PortalLinkRef } | null> {
    const token = String(req.params.token);
    if (!isWellFormedToken(token)) return null;
    const link = await portalLinkByTokenHash(hashPortalToken(token));
    return link ? { token, link } : null;
  }

  /** The customer's address (the form's default) and, for a reschedule, their visit still to come (else null). */
  async function requestContext(link: PortalLinkRef, jobId: string | null) {
    return withOrg(link.org_id, async (db) => {
      const lead = await db('leads').where({ id: link.lead_id }).first<{ address: string | null }>('address');
      const job = jobId
        ? ((await db('jobs')
            .where({ id: jobId, lead_id: link.lead_id, status: 'scheduled' })
            // A visit with no day yet has nothing to move: no reschedule form for it.
            .whereNotNull('scheduled_at')
            .first<NonNullable<RequestFormPage['job']> & { address: string | null; property_id: string | null }>(
              'id',
              'service_type',
              'scheduled_at',
              'arrival_window_minutes',
              'address',
              'property_id',
            )) ?? null)
        : null;
      return { address: lead.address, job };
    });
  }

  async function showRequestForm(
    req: Request,
    res: Response,
    next: NextFunction,
    form: RequestFormPage,
    extras: ViewExtras = {},
    status = 200,
  ) {
    const token = String(req.params.token);
    const page = await loadPortalPage(
      hashPortalToken(token),
      { kind: 'list', tab: 'history', page: 1 },
      {
        // i18n-exempt: HTTP header names and values
        device: deviceFamily(req.get('user-agent')),
        ipHash: visitNetworkHash(req.ip),
      },
    );
    if (!page) return miss(req, res, next);
    const reader = readerFor(req, res, page);
    const rendered = requestFormLocals(token, page, form, { ...extras, back: backPath(req, token) }, reader);
    res.status(status).render(rendered.view, rendered.locals);
  }

  /**
   * Stores the request with its email to the business (outbox, sent after commit) and
   * shows "sent"; a form error shows the form again (422) with nothing written.
   */
  async function storeRequest(
    req: Request,
    res: Response,
    next: NextFunction,
    { token, link }: { token: string; link: PortalLinkRef },
    form: RequestFormPage,
    body: Record<string, unknown>,
    read: () => Promise<Omit<NewWorkRequest, 'leadId' | 'portalLinkId'>>,
  ) {
    let deliveryId: string | null;
    try {
      const input = await read();
      ({ deliveryId } = await withOrg(link.org_id, async (db) => {
        const lead = await db('leads').where({ id: link.lead_id }).first<{ address: string | null }>('address');
        const actor: Actor = { type: 'customer', label: CUSTOMER_LABEL, ip: req.ip ?? null };
        const request = {
          ...input,
          leadId: link.lead_id,
          portalLinkId: link.link_id,
          ...(await whereFor(db, link.lead_id, input, lead.address)),
        };
        return createWorkRequest(db, request, actor);
      }));
    } catch (err) {
      if (err instanceof FormError) {
        return showRequestForm(req, res, next, form, { errors: err.fields, formError: err.message, values: body }, 422);
      }
      throw err;
    }
    // After commit: the worker must never pick up a delivery whose row isn't visible yet.
    if (deliveryId) await dispatchDelivery({ deliveryId, orgId: link.org_id });
    // i18n-exempt: a route path
    res.redirect(303, `/p/${token}/request?sent=${form.job ? 'reschedule' : 'work'}`);
  }

  router.get('/:token/request', async (req, res, next) => {
    const found = await resolveLink(req);
    if (!found) return miss(req, res, next);
    const sent = req.query.sent === 'work' || req.query.sent === 'reschedule' ? req.query.sent : undefined;
    const context = await requestContext(found.link, null);
    return showRequestForm(req, res, next, { defaultAddress: context.address, sent });
  });

  router.post('/:token/request', requestLimiter, async (req, res, next) => {
    const found = await resolveLink(req);
    // An unknown link never gets its upload buffered.
    if (!found) return miss(req, res, next);
    const { token, link } = found;
    const refused = await parseRequestUpload(req, res);
    const body = (req.body ?? {}) as Record<string, unknown>;
    // The form puts its token first, so multer has read it even when a file broke a limit.
    if (!isValidPortalFormToken(link.link_id, body._csrf)) return next(formExpired());
    if (refused) {
      const errors = { photos: refused.message };
      return showRequestForm(req, res, next, {}, { errors, formError: refused.message, values: body }, refused.status);
    }
    return storeRequest(req, res, next, { token, link }, {}, body, async () => {
      const form = parseForm(workRequestForm, body);
      // Decoded and re-encoded before the transaction: sharp's work holds no database connection.
      const photos = await normalizeRequestPhotos(req.files as Express.Multer.File[] | undefined);
      return {
        description: form.description,
        propertyId: form.property_id,
        address: form.property_id ? null : form.address || null,
        preferredTimes: form.preferred_times,
        photos,
      };
    });
  });

  router.get('/:token/visits/:id/reschedule', async (req, res, next) => {
    const found = await resolve(req);
    if (!found) return miss(req, res, next);
    const context = await requestContext(found.link, found.id);
    if (!context.job) return miss(req, res, next);
    return showRequestForm(req, res, next, { job: context.job });
  });

  router.post('/:token/visits/:id/reschedule', requestLimiter, async (req, res, next) => {
    const found = await resolve(req);
    if (!found) return miss(req, res, next);
    const { token, id: jobId, link } = found;
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!isValidPortalFormToken(link.link_id, body._csrf)) return next(formExpired());
    const context = await requestContext(link, jobId);
    if (!context.job) return miss(req, res, next);
    const job = context.job;
    return storeRequest(req, res, next, { token, link }, { job }, body, () => {
      const form = parseForm(rescheduleForm, body);
      return Promise.resolve({
        jobId,
        description: form.description,
        propertyId: job.property_id,
        address: job.address,
        preferredTimes: form.preferred_times,
        photos: [],
      });
    });
  });

  // The language switch in every page's header: stored on the customer (their emails, texts and PDFs
  // follow it too), recorded in their history, then back to the page it was pressed on. No script needed.
  router.post('/:token/language', languageLimiter, async (req, res, next) => {
    const found = await resolveLink(req);
    if (!found) return miss(req, res, next);
    const { token, link } = found;
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!isValidPortalFormToken(link.link_id, body._csrf)) return next(formExpired());
    const language = body.language;
    if (!isLanguage(language)) return next(new HttpError(400, 'invalid', 'portal:errors.languageUnknown'));
    await withOrg(link.org_id, async (db) => {
      const lead = await db('leads').where({ id: link.lead_id }).forUpdate().first<{ language: string | null }>('language');
      if (lead.language === language) return;
      await db('leads').where({ id: link.lead_id }).update({ language, updated_at: db.fn.now() });
      await recordAudit(db, {
        actor: { type: 'customer', label: CUSTOMER_LABEL, ip: req.ip ?? null },
        // i18n-exempt: an audit action name
        action: 'lead.language_changed',
        subjectType: 'lead',
        subjectId: link.lead_id,
        data: { from: lead.language, to: language, source: 'portal' },
      });
    });
    const back = typeof body.back === 'string' && BACK.test(body.back) ? body.back : '';
    res.redirect(303, `/p/${token}${back}`);
  });

  /** "Update total" without script: the page again with the customer's picks and their totals. Writes nothing. */
  async function chooseLines(req: Request, res: Response, next: NextFunction) {
    const found = await resolve(req);
    if (!found) return miss(req, res, next);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!isValidPortalFormToken(found.link.link_id, body._csrf)) return next(formExpired());
    const choice = choiceForm.safeParse(body);
    const values = { approverName: typeof body.approverName === 'string' ? body.approverName : '' };
    if (!choice.success) {
      const message = 'portal:proposal.choicesUnreadable';
      return show(req, res, next, { kind: 'proposal', id: found.id }, { errors: { choices: message }, formError: message, values }, 422);
    }
    return show(req, res, next, { kind: 'proposal', id: found.id }, { choice: choice.data, values });
  }

  async function decide(req: Request, res: Response, next: NextFunction, decision: 'approve' | 'reject') {
    const found = await resolve(req);
    if (!found) return miss(req, res, next);
    const { token, id: proposalId, link } = found;
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!isValidPortalFormToken(link.link_id, body._csrf)) return next(formExpired());
    let outcome: 'approved' | 'rejected' | 'already';
    try {
      outcome = await withOrg(link.org_id, async (db) => {
        const proposal = await db('proposals')
          .where({ id: proposalId, lead_id: link.lead_id })
          .whereNot({ status: 'draft' })
          .first<{ id: string; status: string; valid_until: string | null } | undefined>('id', 'status', 'valid_until');
        if (!proposal) throw notFound();
        const org = await db('organizations').first<{ plan: string; time_zone: string }>('plan', 'time_zone');
        if (!planFor(org.plan).onlineApproval) {
          throw forbidden('portal:proposal.noOnlineApproval');
        }
        if (proposal.status !== 'pending') return 'already';
        // An offer past its valid-until date can't be accepted at the old price (declining it is still fine).
        if (decision === 'approve' && isPastDay(proposal.valid_until, org.time_zone))
          throw new HttpError(410, PROPOSAL_EXPIRED, EXPIRED_MESSAGE);
        if (decision === 'approve') {
          const form = parseForm(approveForm, body);
          const picks = parseForm(approveChoiceForm, body);
          // Drawn with signature_pad, or null: then the typed name is the signature (no script needed).
          const imagePng = await normalizeSignature(parseForm(signatureForm, body).signature);
          const actor: Actor = { type: 'customer', label: form.approverName, ip: req.ip ?? null };
          const result = await approveProposal(
            db,
            proposal.id,
            {
              source: 'portal',
              approverName: form.approverName,
              ip: req.ip ?? null,
              // i18n-exempt: HTTP header names and values
              userAgent: req.get('user-agent') ?? null,
              // Always checked from the portal: a form without it (or altered) counts as "changed".
              expectedContentSha256: form.contentSha256 ?? '',
              // i18n-exempt: HTTP header names and values
              signature: { signerName: form.approverName, imagePng, ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null },
              choice: picks,
              expectedTotalCents: picks.expectedTotalCents ?? null,
            },
            actor,
          );
          return result.alreadyDecided ? 'already' : 'approved';
        }
        const form = parseForm(rejectForm, body);
        const actor: Actor = { type: 'customer', label: CUSTOMER_LABEL, ip: req.ip ?? null };
        const result = await rejectProposal(db, proposal.id, { reason: form.reason }, actor);
        return result.alreadyDecided ? 'already' : 'rejected';
      });
    } catch (err) {
      if (err instanceof HttpError && err.status === 404) return miss(req, res, next);
      if (err instanceof HttpError && err.id === PROPOSAL_EXPIRED) {
        return show(req, res, next, { kind: 'proposal', id: proposalId }, { formError: err.message, decision: 'approve' }, 410);
      }
      if (err instanceof HttpError && err.id === PROPOSAL_CHANGED) {
        // Nothing was written; show the current version and ask again (the name is kept, the box is not).
        const values = { approverName: typeof body.approverName === 'string' ? body.approverName : '' };
        return show(req, res, next, { kind: 'proposal', id: proposalId }, { proposalChanged: true, values, decision: 'approve' }, 409);
      }
      // Approved and rejected at once from two tabs: the loser just sees the outcome.
      if (err instanceof HttpError && err.status === 409) outcome = 'already';
      else if (err instanceof FormError) {
        return show(
          req,
          res,
          next,
          { kind: 'proposal', id: proposalId },
          { errors: err.fields, formError: err.message, values: body, decision, choice: choiceForm.safeParse(body).data },
          422,
        );
      } else throw err;
    }
    // Approved with a deposit due: straight on to paying it (the page offers it again if this fails).
    const depositUrl = outcome === 'approved' ? await depositCheckoutAfterApproval(link, proposalId, req) : null;
    res.redirect(303, depositUrl ?? `/p/${token}/proposals/${proposalId}?result=${outcome}`);
  }

  router.post('/:token/proposals/:id/approve', (req, res, next) => decide(req, res, next, 'approve'));
  router.post('/:token/proposals/:id/choose', chooseLines);
  router.post('/:token/proposals/:id/reject', (req, res, next) => decide(req, res, next, 'reject'));

  // Request changes: the version shown is frozen with the message, and the business gets an email (outbox).
  // i18n-exempt: a route path
  router.post('/:token/proposals/:id/request-changes', changesLimiter, async (req, res, next) => {
    const found = await resolve(req);
    if (!found) return miss(req, res, next);
    const { token, id: proposalId, link } = found;
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!isValidPortalFormToken(link.link_id, body._csrf)) return next(formExpired());
    let outcome: { already: boolean; deliveryId: string | null };
    try {
      const form = parseForm(changesForm, body);
      outcome = await withOrg(link.org_id, async (db) => {
        const proposal = await db('proposals')
          .where({ id: proposalId, lead_id: link.lead_id })
          .whereNot({ status: 'draft' })
          .first<{ id: string } | undefined>('id');
        if (!proposal) throw notFound();
        const org = await db('organizations').first<{ plan: string }>('plan');
        if (!planFor(org.plan).onlineApproval) {
          throw forbidden('portal:proposal.noOnlineAnswers');
        }
        const actor: Actor = { type: 'customer', label: CUSTOMER_LABEL, ip: req.ip ?? null };
        const result = await requestProposalChanges(
          db,
          proposal.id,
          // i18n-exempt: HTTP header names and values
          { message: form.changes, ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null },
          actor,
        );
        return { already: result.alreadyDecided, deliveryId: result.deliveryId };
      });
    } catch (err) {
      if (err instanceof HttpError && err.status === 404) return miss(req, res, next);
      if (err instanceof FormError) {
        return show(
          req,
          res,
          next,
          { kind: 'proposal', id: proposalId },
          { errors: err.fields, formError: err.message, values: body, decision: 'changes' },
          422,
        );
      }
      throw err;
    }
    // After commit: the worker must never pick up a delivery whose row isn't visible yet.
    if (outcome.deliveryId) await dispatchDelivery({ deliveryId: outcome.deliveryId, orgId: link.org_id });
    res.redirect(303, `/p/${token}/proposals/${proposalId}?result=${outcome.already ? 'already' : 'changes'}`);
  });

  // Pay the deposit of an approved proposal (after approving, or later from the proposal page).
  router.post('/:token/proposals/:id/deposit', payLimiter, async (req, res, next) => {
    const found = await resolve(req);
    if (!found) return miss(req, res, next);
    if (!isValidPortalFormToken(found.link.link_id, (req.body as Record<string, unknown> | undefined)?._csrf)) return next(formExpired());
    try {
      res.redirect(303, await startDepositCheckout(found.link, found.id, req));
    } catch (err) {
      if (err instanceof HttpError && err.status === 404) return miss(req, res, next);
      throw err;
    }
  });

  // Pay several invoices (ticked on the Invoices tab) in one Checkout Session.
  router.post('/:token/invoices/pay', payLimiter, async (req, res, next) => {
    const token = String(req.params.token);
    const link = isWellFormedToken(token) ? await portalLinkByTokenHash(hashPortalToken(token)) : null;
    if (!link) return miss(req, res, next);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!isValidPortalFormToken(link.link_id, body._csrf)) return next(formExpired());
    try {
      res.redirect(303, await startSplitCheckout(link, parseForm(paySeveralForm, body), req));
    } catch (err) {
      if (!(err instanceof FormError)) throw err;
      return show(
        req,
        res,
        next,
        { kind: 'list', tab: 'invoices', page: 1 },
        { errors: err.fields, formError: err.message, values: body },
        422,
      );
    }
  });

  // Pay: a Stripe Checkout Session on the contractor's connected account.
  router.post('/:token/invoices/:id/pay', payLimiter, async (req, res, next) => {
    const found = await resolve(req);
    if (!found) return miss(req, res, next);
    const { id: invoiceId, link } = found;
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!isValidPortalFormToken(link.link_id, body._csrf)) return next(formExpired());
    let url: string;
    try {
      const form = parseForm(payForm, body);
      ({ url } = await withOrg(link.org_id, async (db) => {
        const lead = await db('leads').where({ id: link.lead_id }).first<{ email: string | null }>('email');
        return createInvoiceCheckout(
          db,
          {
            invoiceId,
            leadId: link.lead_id,
            portalLinkId: link.link_id,
            amountInput: form.amount,
            returnUrl: checkoutReturnUrl,
            customerEmail: lead?.email ?? null,
            saveCard: form.save_card === 'on',
            actor: { type: 'customer', label: CUSTOMER_LABEL, ip: req.ip ?? null },
          },
          getStripe(),
        );
      }));
    } catch (err) {
      if (err instanceof FormError) {
        return show(req, res, next, { kind: 'invoice', id: invoiceId }, { errors: err.fields, formError: err.message, values: body }, 422);
      }
      if (err instanceof HttpError && err.status === 404) return miss(req, res, next);
      throw err;
    }
    res.redirect(303, url);
  });

  /** The live link behind a form post with a valid form token (else null: a miss, or throws: expired form). */
  async function formLink(req: Request): Promise<PortalLinkRef | null> {
    const token = String(req.params.token);
    const link = isWellFormedToken(token) ? await portalLinkByTokenHash(hashPortalToken(token)) : null;
    if (link && !isValidPortalFormToken(link.link_id, (req.body as Record<string, unknown> | undefined)?._csrf)) throw formExpired();
    return link;
  }

  // Autopay on or off (Pro), and removing the saved card: back to the Invoices tab.
  router.post('/:token/autopay', payLimiter, async (req, res, next) => {
    const link = await formLink(req);
    if (!link) return miss(req, res, next);
    const form = autopayForm.safeParse(req.body ?? {});
    const lang = res.locals.lang as Language;
    if (!form.success) throw new HttpError(400, 'bad_request', translate(lang, 'autopay:errors.choose'));
    try {
      await changeAutopay(link, form.data.autopay === 'on', req);
    } catch (err) {
      // Refused (plan, no card): the error page in the reader's language.
      if (err instanceof HttpError && err.status < 500) throw new HttpError(err.status, err.id, translate(lang, err.message));
      throw err;
    }
    // i18n-exempt: a route path
    res.redirect(303, `/p/${String(req.params.token)}/invoices#saved-card`);
  });
  router.post('/:token/card/remove', payLimiter, async (req, res, next) => {
    const link = await formLink(req);
    if (!link) return miss(req, res, next);
    await removeCard(link, req);
    // i18n-exempt: a route path
    res.redirect(303, `/p/${String(req.params.token)}/invoices#saved-card`);
  });

  // Anything else under /p, token or not: the same plain 404.
  router.use((req, res, next) => miss(req, res, next));

  const portalErrors: ErrorRequestHandler = (err: unknown, req, res, _next) => {
    const status = err instanceof HttpError ? err.status : 500;
    if (status >= 500) requestLogger(req).error({ err }, 'portal request failed');
    if (res.headersSent) return;
    if (status === 404) return renderNotFound(res);
    // The visitor's language: a refused form or a limit knows no customer (res.locals.lang is the browser's).
    res.status(status).render('portal/error', {
      // i18n-exempt: a view or layout name
      layout: 'portal-plain',
      title: status === 429 ? 'portal:errors.tooMany' : status >= 500 ? 'portal:errors.wentWrong' : 'portal:errors.refused',
      message: err instanceof HttpError && status < 500 ? err.message : 'portal:errors.wentWrongText',
    });
  };
  router.use(portalErrors);

  /**
   * The pages a customer opens (GET and HEAD), registered on the app itself at /p before
   * anything else (src/app.ts): a view passes nothing meant for other requests (static
   * files, health, webhooks, body parsers), and no router mounted for it, whose own pass
   * is a share of a view's time (issue 16). Each route is its checks and headers, the
   * page, then the portal's error page; what a route doesn't show goes on ('route') to
   * `router` (the request forms, the one 404). A view has no body; its query is refused
   * there as everywhere.
   */
  function mountViews(app: IRouter): void {
    const view = (path: string, page: RequestHandler) => app.get(`/p${path}`, portalViewChecks, page, portalErrors);
    // The four tabs first, the pages opened most; the patterns differ in their number of
    // segments, so no path matches two of them and their order changes nothing else.
    view('/:token/:tab', (req, res, next) => {
      const tab = req.params.tab as ListTab;
      // Not a tab ("request", a typo): the rest of the portal decides (a form, or the one 404).
      if (!TABS.includes(tab)) return next('route');
      const query = pageQuery.safeParse(viewQuery(req));
      if (!query.success) return miss(req, res, next);
      return show(req, res, next, { kind: 'list', tab, page: query.data.page, property: query.data.property ?? null });
    });

    for (const kind of ['proposal', 'invoice'] as const) {
      view(`/:token/${kind}s/:id`, (req, res, next) => {
        const id = uuidOrNull(req.params.id);
        if (!id) return miss(req, res, next);
        const { result } = viewQuery(req);
        return show(
          req,
          res,
          next,
          { kind, id },
          { result: typeof result === 'string' && SHOWN_RESULTS.test(result) ? result : undefined },
        );
      });
    }

    view('/:token', (req, res, next) => {
      const property = pageQuery.safeParse(viewQuery(req)).data?.property ?? null;
      return show(req, res, next, { kind: 'home', property }, { home: true });
    });

    // An earlier version of a proposal, frozen when the customer asked for changes (superseded once revised).
    view('/:token/proposals/:id/versions/:version', (req, res, next) => {
      const id = uuidOrNull(req.params.id);
      const version = /^[1-9][0-9]{0,4}$/.test(String(req.params.version)) ? Number(req.params.version) : null;
      if (!id || !version) return miss(req, res, next);
      return show(req, res, next, { kind: 'proposal', id }, { version });
    });
  }
  return { mountViews, router };
}

/**
 * At /p, before sessions: a portal visitor has no account. `mountPortalViews` (the pages)
 * goes first in the app, `portalRouter` (forms, payments, the 404) after the body parsers.
 */
export const { mountViews: mountPortalViews, router: portalRouter } = createPortalRouter();
