// Customer portal at /p/<token> (no session) and the contractor's link management.
import { Router, type ErrorRequestHandler, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { ipKeyGenerator, type RateLimitRequestHandler } from 'express-rate-limit';
import { approveProposal, PROPOSAL_CHANGED, rejectProposal } from '../proposals/service.js';
import { withOrg, withoutOrg } from '../db/tenancy.js';
import { FormError, HttpError, forbidden, notFound } from '../http/errors.js';
import { orgPage, type PageContext, type PageResult } from '../http/page.js';
import { createRateLimiter } from '../http/security.js';
import { parseForm } from '../http/validate.js';
import { planFor } from '../plans.js';
import type { Actor } from '../audit.js';
import { loadPortalPageFromDb, TABS, type ListTab, type PortalPageSource, type PortalView } from './page-data.js';
import { approveForm, pageQuery, rejectForm, settingsQuery, uuidParam } from './schema.js';
import {
  generatePortalLink,
  listActivePortalLinks,
  portalLimitMessage,
  portalLinkUsage,
  PortalLinkLimitError,
  LINKS_PER_PAGE,
  regeneratePortalLink,
  revokePortalLink,
  STALE_AFTER_DAYS,
} from './service.js';
import { hashPortalToken, isValidPortalFormToken, isWellFormedToken } from './token.js';
import { portalPageLocals, type ViewExtras } from './view-model.js';
import { mountPortalPayments, portalPayLocals } from '../payments/stripe-portal.js';

/** Failed token lookups allowed per client per window before 429. */
export const PORTAL_MISS_LIMIT = 20;
export const PORTAL_MISS_WINDOW_MS = 10 * 60_000;

export function portalClientKey(req: Request): string {
  return ipKeyGenerator(req.ip ?? 'unknown');
}

/** Headers every portal response carries, 404 and 429 included. */
const portalHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'X-Robots-Tag': 'noindex, nofollow',
  });
  next();
};

function renderNotFound(res: Response): void {
  res.status(404).render('portal/not-found', { layout: 'portal-plain', title: 'Link not available' });
}

function uuidOrNull(value: unknown): string | null {
  const parsed = uuidParam.safeParse(value);
  return parsed.success ? parsed.data.toLowerCase() : null;
}

interface LookedUpLink {
  link_id: string;
  org_id: string;
  lead_id: string;
}

async function lookupLink(token: string): Promise<LookedUpLink | null> {
  return withoutOrg(async (db) => {
    const { rows } = await db.raw<{ rows: LookedUpLink[] }>('select link_id, org_id, lead_id from portal_link_by_token_hash(?)', [
      hashPortalToken(token),
    ]);
    return rows[0] ?? null;
  });
}

export interface PortalRouterOptions {
  /** Where page data comes from; the benchmark swaps in memory to measure the database's share. */
  source?: PortalPageSource;
  missLimiter?: RateLimitRequestHandler;
}

export function createPortalMissLimiter(): RateLimitRequestHandler {
  return createRateLimiter({
    name: 'portal-miss',
    windowMs: PORTAL_MISS_WINDOW_MS,
    limit: PORTAL_MISS_LIMIT,
    keyGenerator: portalClientKey,
    message: 'Too many attempts to open portal links. Please wait a few minutes and try again.',
  }) as RateLimitRequestHandler;
}

export function createPortalRouter(options: PortalRouterOptions = {}): Router {
  const source = options.source ?? loadPortalPageFromDb;
  const missLimiter = options.missLimiter ?? createPortalMissLimiter();
  const router = Router();
  router.use(portalHeaders);

  /** A failed lookup: counted against the client, then the one plain 404 (or 429 once over). */
  function miss(req: Request, res: Response, next: NextFunction): void {
    missLimiter(req, res, (err?: unknown) => (err ? next(err) : renderNotFound(res)));
  }

  /** A client over the limit gets 429 even for a real token, so guessing learns nothing. */
  async function blocked(req: Request): Promise<boolean> {
    const info = await missLimiter.getKey(portalClientKey(req));
    return !!info && info.totalHits > PORTAL_MISS_LIMIT && info.resetTime !== undefined && info.resetTime.getTime() > Date.now();
  }

  async function show(req: Request, res: Response, next: NextFunction, view: PortalView, extras: ViewExtras = {}, status = 200) {
    const token = String(req.params.token);
    if (!isWellFormedToken(token)) return miss(req, res, next);
    if (await blocked(req)) return miss(req, res, next);
    const page = await source(hashPortalToken(token), view);
    if (!page || ((page.tab === 'proposal' || page.tab === 'invoice') && !page.data)) return miss(req, res, next);
    const rendered = portalPageLocals(token, page, { ...extras, page: view.kind === 'list' ? view.page : 1 });
    Object.assign(rendered.locals, await portalPayLocals(token, page));
    res.status(status).render(rendered.view, rendered.locals);
  }

  router.get('/:token', (req, res, next) => show(req, res, next, { kind: 'home' }));

  for (const kind of ['proposal', 'invoice'] as const) {
    router.get(`/:token/${kind}s/:id`, (req, res, next) => {
      const id = uuidOrNull(req.params.id);
      if (!id) return miss(req, res, next);
      const result = typeof req.query.result === 'string' ? req.query.result : undefined;
      return show(req, res, next, { kind, id }, { result: result && /^(approved|rejected|already)$/.test(result) ? result : undefined });
    });
  }

  router.get('/:token/:tab', (req, res, next) => {
    const tab = req.params.tab as ListTab;
    if (!TABS.includes(tab)) return miss(req, res, next);
    const query = pageQuery.safeParse(req.query);
    if (!query.success) return miss(req, res, next);
    return show(req, res, next, { kind: 'list', tab, page: query.data.page });
  });

  type Decision = 'approve' | 'reject';

  async function decide(req: Request, res: Response, next: NextFunction, decision: Decision) {
    const token = String(req.params.token);
    const proposalId = uuidOrNull(req.params.id);
    if (!isWellFormedToken(token) || !proposalId) return miss(req, res, next);
    if (await blocked(req)) return miss(req, res, next);
    const link = await lookupLink(token);
    if (!link) return miss(req, res, next);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!isValidPortalFormToken(link.link_id, body._csrf)) {
      return next(new HttpError(403, 'csrf', 'This form has expired. Go back, reload the page and try again.', false));
    }
    let outcome: 'approved' | 'rejected' | 'already';
    try {
      outcome = await withOrg(link.org_id, async (db) => {
        const proposal = await db('proposals')
          .where({ id: proposalId, lead_id: link.lead_id })
          .whereNot({ status: 'draft' })
          .first<{ id: string; status: string } | undefined>('id', 'status');
        if (!proposal) throw notFound();
        const org = await db('organizations').first<{ plan: string }>('plan');
        if (!planFor(org.plan).onlineApproval) {
          throw forbidden('This business does not take approvals online. Please contact them to approve or reject this proposal.');
        }
        if (proposal.status !== 'pending') return 'already';
        if (decision === 'approve') {
          const form = parseForm(approveForm, body);
          const actor: Actor = { type: 'customer', label: form.approverName, ip: req.ip ?? null };
          const result = await approveProposal(
            db,
            proposal.id,
            {
              source: 'portal',
              approverName: form.approverName,
              ip: req.ip ?? null,
              userAgent: req.get('user-agent') ?? null,
              // Always checked from the portal: a form without it (or altered) counts as "changed".
              expectedContentSha256: form.contentSha256 ?? '',
            },
            actor,
          );
          return result.alreadyDecided ? 'already' : 'approved';
        }
        const form = parseForm(rejectForm, body);
        const actor: Actor = { type: 'customer', label: 'Customer (portal)', ip: req.ip ?? null };
        const result = await rejectProposal(db, proposal.id, { reason: form.reason }, actor);
        return result.alreadyDecided ? 'already' : 'rejected';
      });
    } catch (err) {
      if (err instanceof HttpError && err.status === 404) return miss(req, res, next);
      if (err instanceof HttpError && err.id === PROPOSAL_CHANGED) {
        // Nothing was written; show the current version and ask again (the name is kept, the box is not).
        const values = { approverName: typeof body.approverName === 'string' ? body.approverName : '' };
        return show(req, res, next, { kind: 'proposal', id: proposalId }, { proposalChanged: true, values, decision: 'approve' }, 409);
      }
      // Approved and rejected at once from two tabs: the loser just sees the outcome.
      if (err instanceof HttpError && err.status === 409) outcome = 'already';
      else if (err instanceof FormError) {
        return show(req, res, next, { kind: 'proposal', id: proposalId }, { errors: err.fields, formError: err.message, values: body, decision }, 422);
      } else throw err;
    }
    res.redirect(303, `/p/${token}/proposals/${proposalId}?result=${outcome}`);
  }

  router.post('/:token/proposals/:id/approve', (req, res, next) => decide(req, res, next, 'approve'));
  router.post('/:token/proposals/:id/reject', (req, res, next) => decide(req, res, next, 'reject'));

  mountPortalPayments(router, { miss, blocked, show });

  // Anything else under /p, token or not: the same plain 404.
  router.use((req, res, next) => miss(req, res, next));

  const portalErrors: ErrorRequestHandler = (err: unknown, req, res, _next) => {
    const status = err instanceof HttpError ? err.status : 500;
    if (status >= 500) req.log?.error({ err }, 'portal request failed');
    if (res.headersSent) return;
    if (status === 404) return renderNotFound(res);
    res.status(status).render('portal/error', {
      layout: 'portal-plain',
      title: status === 429 ? 'Too many attempts' : status >= 500 ? 'Something went wrong' : 'Request refused',
      message: err instanceof HttpError && status < 500 ? err.message : 'Something went wrong on our side. Please try again in a moment.',
    });
  };
  router.use(portalErrors);
  return router;
}

/** Counts failed lookups per client (in Redis when configured, so it holds across processes). */
export const portalMissLimiter = createPortalMissLimiter();

/** Mounted at /p before sessions: a portal visitor has no account. */
export const portalRouter = createPortalRouter({ missLimiter: portalMissLimiter });

// ---------------------------------------------------------------- contractor side

export const adminRouter = Router();

function idOrThrow(value: unknown): string {
  const id = uuidOrNull(value);
  if (!id) throw notFound();
  return id;
}

async function settingsLocals(ctx: PageContext, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const query = settingsQuery.safeParse(ctx.req.query);
  const { stale, page } = query.success ? query.data : { stale: false, page: 1 };
  const [usage, list] = await Promise.all([portalLinkUsage(ctx.db), listActivePortalLinks(ctx.db, { stale, page })]);
  const pages = Math.max(1, Math.ceil(list.total / LINKS_PER_PAGE));
  return {
    title: 'Customer Portal',
    usage,
    overLimitMessage: usage.overLimit ? portalLimitMessage(usage) : null,
    links: list.rows,
    total: list.total,
    stale,
    staleDays: STALE_AFTER_DAYS,
    pagination:
      pages > 1
        ? {
            page,
            pages,
            prev: page > 1 ? `/settings/portal?${new URLSearchParams({ ...(stale ? { stale: '1' } : {}), page: String(page - 1) })}` : null,
            next: page < pages ? `/settings/portal?${new URLSearchParams({ ...(stale ? { stale: '1' } : {}), page: String(page + 1) })}` : null,
          }
        : null,
    ...extra,
  };
}

/** The 11th link on Free: the settings list, where a slot can be freed, with the reason on top. */
async function limitRefusal(ctx: PageContext, err: PortalLinkLimitError): Promise<PageResult> {
  return { render: 'admin/settings/portal', status: 409, locals: await settingsLocals(ctx, { refusal: err.message }) };
}

adminRouter.get(
  '/settings/portal',
  orgPage(async (ctx) => ({ render: 'admin/settings/portal', locals: await settingsLocals(ctx) })),
);

adminRouter.post(
  '/settings/portal/links/:id/revoke',
  orgPage(async ({ req, db, actor }) => {
    const id = idOrThrow(req.params.id);
    await revokePortalLink(db, id, actor);
    const back = req.body?.stale === '1' ? '/settings/portal?stale=1' : '/settings/portal';
    return { redirect: back, flash: 'Link revoked. The customer’s records are unchanged; the slot is free again.' };
  }),
);

adminRouter.post(
  '/customers/:id/portal-link',
  orgPage(async (ctx) => {
    const leadId = idOrThrow(ctx.req.params.id);
    try {
      const { created } = await generatePortalLink(ctx.db, leadId, ctx.actor);
      return {
        redirect: `/customers/${leadId}`,
        flash: created ? 'Portal link created. Copy it or send it to the customer.' : 'This customer already has a portal link.',
        flashType: created ? 'success' : 'info',
      };
    } catch (err) {
      if (err instanceof PortalLinkLimitError) return limitRefusal(ctx, err);
      throw err;
    }
  }),
);

adminRouter.post(
  '/customers/:id/portal-link/regenerate',
  orgPage(async (ctx) => {
    const leadId = idOrThrow(ctx.req.params.id);
    try {
      await regeneratePortalLink(ctx.db, leadId, ctx.actor);
    } catch (err) {
      if (err instanceof PortalLinkLimitError) return limitRefusal(ctx, err);
      throw err;
    }
    return { redirect: `/customers/${leadId}`, flash: 'New portal link created. The old link no longer opens the portal.' };
  }),
);

adminRouter.post(
  '/customers/:id/portal-link/revoke',
  orgPage(async ({ req, db, actor }) => {
    const leadId = idOrThrow(req.params.id);
    const link = await db('portal_links').where({ lead_id: leadId }).whereNull('revoked_at').first<{ id: string } | undefined>('id');
    if (!link) throw notFound('This customer has no active portal link.');
    await revokePortalLink(db, link.id, actor);
    return { redirect: `/customers/${leadId}`, flash: 'Portal link revoked. The customer’s records are unchanged.' };
  }),
);
