// Settings → Customer Portal (active links, usage, revoke) and the link actions on a customer's page.
import { Router } from 'express';
import { orgPage, type PageContext, type PageResult } from '../http/page.js';
import { msg, t, type Language } from '../i18n/index.js';
import { routeId } from '../lib/ids.js';
import { countedPagination } from '../lib/pagination.js';
import { getLead, leadName } from '../leads/queries.js';
import { setPortalLinkLifetime } from '../orgs/commands.js';
import { planName } from '../plans.js';
import { parseForm } from '../lib/forms.js';
import { FormError } from '../lib/errors.js';
import { generatePortalLink, regeneratePortalLink, revokeCustomerLink, revokePortalLink, setPortalLinkExpiry } from './commands.js';
import {
  activeLinkDetails,
  LINKS_PER_PAGE,
  listActivePortalLinks,
  portalLimitMessage,
  portalLinkUsage,
  PortalLinkLimitError,
  STALE_AFTER_DAYS,
} from './queries.js';
import { lifetimeForm, settingsQuery } from './schema.js';

export const adminRouter = Router();

async function settingsLocals(ctx: PageContext, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const query = settingsQuery.safeParse(ctx.req.query);
  const { stale, page } = query.success ? query.data : { stale: false, page: 1 };
  const usage = await portalLinkUsage(ctx.db);
  const list = await listActivePortalLinks(ctx.db, { stale, page });
  return {
    title: t(ctx.res.locals.lang as Language, 'settings:portal.heading'),
    usage,
    planName: planName(ctx.res.locals.lang as Language, usage.plan.id),
    overLimitMessage: usage.overLimit ? portalLimitMessage(usage) : null,
    links: list.rows,
    total: list.total,
    stale,
    staleDays: STALE_AFTER_DAYS,
    pagination: countedPagination(list.total, page, '/settings/portal', stale ? { stale: '1' } : {}, LINKS_PER_PAGE),
    lifetimeOptions: lifetimeOptions(ctx.org.portal_link_lifetime_days),
    ...extra,
  };
}

/** The choices of a lifetime select, the current one selected. */
function lifetimeOptions(current: number | null): { value: string; days: number | null; selected: boolean }[] {
  return [
    { value: 'never', days: null, selected: current === null },
    ...[30, 90, 365].map((d) => ({ value: String(d), days: d, selected: current === d })),
  ];
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
  '/settings/portal/lifetime',
  orgPage(
    async (ctx) => {
      let days: number | null;
      try {
        ({ lifetime: days } = parseForm(lifetimeForm, ctx.req.body));
      } catch (err) {
        if (err instanceof FormError) {
          return { render: 'admin/settings/portal', status: 422, locals: await settingsLocals(ctx, { lifetimeError: err.message }) };
        }
        throw err;
      }
      await setPortalLinkLifetime(ctx.db, ctx.org.id, days, ctx.actor);
      return {
        redirect: '/settings/portal',
        flash: days === null ? 'settings:portal.flash.lifetimeNever' : msg('settings:portal.flash.lifetime', { count: days }),
      };
    },
    { ownerOnly: true },
  ),
);

adminRouter.post(
  '/customers/:id/portal-link/expiry', // i18n-exempt: paths and a view's name
  orgPage(async ({ req, db, actor }) => {
    const leadId = routeId(req.params);
    const { lifetime } = parseForm(lifetimeForm, req.body);
    const expires = await setPortalLinkExpiry(db, leadId, lifetime, actor);
    return {
      redirect: `/customers/${leadId}`,
      flash: expires ? msg('settings:portal.flash.expiry', { count: lifetime ?? 0 }) : 'settings:portal.flash.expiryNever',
    };
  }),
);

adminRouter.post(
  '/settings/portal/links/:id/revoke',
  orgPage(async ({ req, db, actor }) => {
    await revokePortalLink(db, routeId(req.params), actor);
    const back = (req.body as Record<string, unknown> | undefined)?.stale === '1' ? '/settings/portal?stale=1' : '/settings/portal'; // i18n-exempt: paths and a view's name
    return { redirect: back, flash: 'settings:portal.flash.revokedFromList' };
  }),
);

adminRouter.post(
  '/customers/:id/portal-link', // i18n-exempt: paths and a view's name
  orgPage(async (ctx) => {
    const leadId = routeId(ctx.req.params);
    try {
      const { created } = await generatePortalLink(ctx.db, leadId, ctx.actor);
      return {
        redirect: `/customers/${leadId}`,
        flash: created ? 'settings:portal.flash.created' : 'settings:portal.flash.exists',
        flashType: created ? 'success' : 'info',
      };
    } catch (err) {
      if (err instanceof PortalLinkLimitError) return limitRefusal(ctx, err);
      throw err;
    }
  }),
);

adminRouter.post(
  '/customers/:id/portal-link/regenerate', // i18n-exempt: paths and a view's name
  orgPage(async (ctx) => {
    const leadId = routeId(ctx.req.params);
    try {
      await regeneratePortalLink(ctx.db, leadId, ctx.actor);
    } catch (err) {
      if (err instanceof PortalLinkLimitError) return limitRefusal(ctx, err);
      throw err;
    }
    return { redirect: `/customers/${leadId}`, flash: 'settings:portal.flash.regenerated' };
  }),
);

/** The question asked before a customer's link is revoked; nothing changes until it is answered. */
async function revokeConfirmation(ctx: PageContext): Promise<PageResult> {
  const lead = await getLead(ctx.db, routeId(ctx.req.params));
  const link = await activeLinkDetails(ctx.db, lead.id);
  return {
    render: 'admin/customers/revoke-link', // i18n-exempt: paths and a view's name
    locals: {
      title: t(ctx.res.locals.lang as Language, 'settings:portal.revokeTitle'),
      leadId: lead.id,
      name: leadName(lead),
      firstName: lead.first_name,
      hasLink: link !== null,
    },
  };
}

adminRouter.get('/customers/:id/portal-link/revoke', orgPage(revokeConfirmation)); // i18n-exempt: paths and a view's name

adminRouter.post(
  '/customers/:id/portal-link/revoke', // i18n-exempt: paths and a view's name
  orgPage(async (ctx) => {
    const { req, db, actor } = ctx;
    // Revoking asks first: only the confirmation's own form carries confirm=1.
    if ((req.body as Record<string, unknown> | undefined)?.confirm !== '1') return revokeConfirmation(ctx);
    const leadId = routeId(req.params);
    await revokeCustomerLink(db, leadId, actor);
    return { redirect: `/customers/${leadId}`, flash: 'settings:portal.flash.revoked' };
  }),
);
