// Settings → Branding & business details, the settings index, and the public logo URL.
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import multer from 'multer';
import { orgLogoBySha256 } from '../db/lookups.js';
import { csrfProtection } from '../http/security.js';
import { formFailure, orgPage, type PageContext, type PageResult } from '../http/page.js';
import { brandPalette } from '../lib/contrast.js';
import { FormError, notFound } from '../lib/errors.js';
import { parseForm } from '../lib/forms.js';
import { msg, t, type Language } from '../i18n/index.js';
import { PLAN_IDS, PLANS, planName } from '../plans.js';
import { removeOrgLogo, saveOrgLogo, updateBranding } from './commands.js';
import { logoUrl, MAX_LOGO_BYTES, normalizeLogo, SHA256_HEX } from './logo.js';
import { currentLogoSha } from './queries.js';
import { phoneCountryFor, phoneInputValue } from '../lib/phone.js';
import { brandingSchema, CURRENCIES, LOCALES, TIME_ZONES } from './schema.js';

export const adminRouter = Router();

/** Mounted before sessions: served to anyone (logos on portal pages). */
export const publicRouter = Router();

// --- public logo URL: content-addressed, so it can be cached for a year ---

publicRouter.get('/logos/:sha256', async (req: Request, res: Response) => {
  const sha256 = String(req.params.sha256);
  const logo = SHA256_HEX.test(sha256) ? await orgLogoBySha256(sha256) : null;
  if (!logo) throw notFound('settings:branding.noSuchLogo');
  res.set({
    'Content-Type': logo.content_type, // i18n-exempt: header names and values
    'Cache-Control': 'public, max-age=31536000, immutable', // i18n-exempt: header names and values
    // Portal pages and emails show it from elsewhere; helmet's default is same-origin.
    'Cross-Origin-Resource-Policy': 'cross-origin', // i18n-exempt: header names and values
    ETag: `"${sha256}"`,
  });
  res.send(logo.bytes);
});

// --- settings index: everyone sees it; owner-only pages are marked ---

adminRouter.get(
  '/settings',
  orgPage(({ res, user, plan }) => ({
    render: 'admin/settings/index',
    locals: {
      title: t(res.locals.lang as Language, 'settings:index.heading'),
      isOwner: user.role === 'owner',
      followupsAvailable: plan.automaticFollowUps,
      followupsPlan: planName(res.locals.lang as Language, PLAN_IDS.find((id) => PLANS[id].automaticFollowUps) ?? 'pro'),
    },
  })),
);

// --- branding and business details ---

/** Codes with their names in the reader's language ("MXN — Mexican Peso", "es-MX — Mexican Spanish"). */
function namedOptions(codes: readonly string[], lang: Language, type: 'currency' | 'language'): { value: string; label: string }[] {
  const names = new Intl.DisplayNames([lang], { type, fallback: 'code' });
  return codes.map((code) => {
    const name = names.of(code);
    return { value: code, label: name && name !== code ? `${code} — ${name}` : code };
  });
}

async function brandingLocals(ctx: PageContext, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const sha = await currentLogoSha(ctx.db, ctx.org.logo_id);
  const lang = ctx.res.locals.lang as Language;
  // The numbers spaced for reading ("+1 512 555 0199"), not as stored; saving reads them back the same.
  const values = (extra.values as Record<string, unknown> | undefined) ?? {
    ...ctx.org,
    phone: phoneInputValue(ctx.org.phone),
    whatsapp_number: phoneInputValue(ctx.org.whatsapp_number),
  };
  const color =
    typeof values.brand_color === 'string' && /^#[0-9a-f]{6}$/i.test(values.brand_color)
      ? values.brand_color.toLowerCase()
      : ctx.org.brand_color;
  return {
    title: t(lang, 'settings:branding.heading'),
    values,
    logoUrl: sha ? logoUrl(sha) : null,
    previewColor: color,
    previewText: brandPalette(color).onBrand,
    timeZones: TIME_ZONES,
    currencies: namedOptions(CURRENCIES, lang, 'currency'),
    locales: namedOptions(LOCALES, lang, 'language'),
    maxLogoMb: MAX_LOGO_BYTES / (1024 * 1024),
    ...extra,
  };
}

adminRouter.get(
  '/settings/branding',
  orgPage(async (ctx) => ({ render: 'admin/settings/branding', locals: await brandingLocals(ctx) }), { ownerOnly: true }),
);

adminRouter.post(
  '/settings/branding',
  orgPage(
    async (ctx) => {
      const body = (ctx.req.body ?? {}) as Record<string, unknown>;
      try {
        // A number typed without + belongs to the country of the locale being saved (else the org's current one).
        const locale = typeof body.locale === 'string' && body.locale.trim() ? body.locale.trim() : ctx.org.locale;
        const input = parseForm(brandingSchema(phoneCountryFor(locale)), body);
        const changed = await updateBranding(ctx.db, ctx.org, input, ctx.actor);
        return { redirect: '/settings/branding', flash: changed.length ? 'settings:branding.saved' : 'settings:branding.nothingChanged' };
      } catch (err) {
        return formFailure('admin/settings/branding', err, await brandingLocals(ctx, { values: body }));
      }
    },
    { ownerOnly: true },
  ),
);

const logoUpload = multer({
  storage: multer.memoryStorage(),
  limits: { fileSize: MAX_LOGO_BYTES, files: 1, fields: 5, fieldSize: 1024, parts: 6 },
}).single('logo');

/**
 * Parses the multipart body (memory, 2 MB cap), then checks the CSRF token that
 * the global check skipped. An oversized upload is answered with the form and a
 * message; nothing is stored, so its CSRF check doesn't matter.
 */
const acceptLogoUpload: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
  // Don't buffer anonymous uploads; orgPage answers them.
  if (!req.session.userId) return next();
  logoUpload(req, res, (err?: unknown) => {
    if (err instanceof multer.MulterError) {
      res.locals.uploadError =
        err.code === 'LIMIT_FILE_SIZE'
          ? msg('settings:branding.error.logoTooLarge', { mb: MAX_LOGO_BYTES / (1024 * 1024) })
          : 'settings:branding.error.logoUnreadable';
      res.locals.uploadErrorStatus = err.code === 'LIMIT_FILE_SIZE' ? 413 : 400;
      return next();
    }
    if (err) return next(err);
    csrfProtection(req, res, next);
  });
};

adminRouter.post(
  '/settings/branding/logo',
  acceptLogoUpload,
  orgPage(
    async (ctx): Promise<PageResult> => {
      const uploadError = ctx.res.locals.uploadError as string | undefined;
      if (uploadError) {
        return {
          render: 'admin/settings/branding',
          status: (ctx.res.locals.uploadErrorStatus as number | undefined) ?? 400,
          locals: await brandingLocals(ctx, { errors: { logo: uploadError }, formError: uploadError }),
        };
      }
      try {
        const file = ctx.req.file;
        if (!file) throw new FormError({ logo: 'settings:branding.error.logoMissing' });
        const logo = await normalizeLogo(file.buffer);
        await saveOrgLogo(ctx.db, ctx.org.id, logo, ctx.actor, file.size);
        return { redirect: '/settings/branding', flash: 'settings:branding.logoUploaded' };
      } catch (err) {
        return formFailure('admin/settings/branding', err, await brandingLocals(ctx));
      }
    },
    { ownerOnly: true },
  ),
);

adminRouter.post(
  '/settings/branding/logo/remove',
  orgPage(
    async ({ db, org, actor }) => {
      if (!(await removeOrgLogo(db, org, actor)))
        return { redirect: '/settings/branding', flash: 'settings:branding.noLogoToRemove', flashType: 'info' };
      return { redirect: '/settings/branding', flash: 'settings:branding.logoRemoved' };
    },
    { ownerOnly: true },
  ),
);
