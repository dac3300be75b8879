// Organization settings (admin) and public assets such as logos.
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import multer from 'multer';
import { config } from '../config.js';
import { withoutOrg } from '../db/tenancy.js';
import { recordAudit } from '../audit.js';
import { FormError, notFound } from '../http/errors.js';
import { formFailure, orgPage, type PageContext, type PageResult } from '../http/page.js';
import { csrfProtection } from '../http/security.js';
import { parseForm } from '../http/validate.js';
import { logger } from '../logger.js';
import { sendAccountEmail } from '../mail/mailer.js';
import { formatDate } from '../format.js';
import { currentLogoSha, logoBySha256, logoUrl, MAX_LOGO_BYTES, normalizeLogo, saveOrgLogo, SHA256_HEX, textColorOn } from './logo.js';
import { brandingSchema, CURRENCIES, idParam, inviteSchema, LOCALES, TIME_ZONES } from './schema.js';
import { updateBranding } from './service.js';
import { changeRole, inviteMember, listTeam, removeMember, revokeInvitation } from './team.js';

export const adminRouter = Router();

/** Mounted before sessions: served to anyone (logos on portal pages). */
export const publicRouter = Router();

// --- public logo URL: content-addressed, so it can be cached for a year ---

publicRouter.get('/logos/:sha256', async (req: Request, res: Response) => {
  const sha256 = String(req.params.sha256);
  const logo = SHA256_HEX.test(sha256) ? await withoutOrg((db) => logoBySha256(db, sha256)) : undefined;
  if (!logo) throw notFound('No such logo');
  res.set({
    'Content-Type': logo.content_type,
    'Cache-Control': 'public, max-age=31536000, immutable',
    // Portal pages and emails show it from elsewhere; helmet's default is same-origin.
    'Cross-Origin-Resource-Policy': 'cross-origin',
    ETag: `"${sha256}"`,
  });
  res.send(logo.bytes);
});

// --- settings index: everyone sees it; owner-only pages are marked ---

adminRouter.get(
  '/settings',
  orgPage(async ({ user }) => ({
    render: 'admin/settings/index',
    locals: { title: 'Settings', isOwner: user.role === 'owner' },
  })),
);

// --- branding and business details ---

async function brandingLocals(ctx: PageContext, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const sha = await currentLogoSha(ctx.db, ctx.org.logo_id);
  const values = (extra.values as Record<string, unknown> | undefined) ?? ctx.org;
  const color = typeof values.brand_color === 'string' && /^#[0-9a-f]{6}$/i.test(values.brand_color) ? values.brand_color.toLowerCase() : ctx.org.brand_color;
  return {
    title: 'Branding & business details',
    values,
    logoUrl: sha ? logoUrl(sha) : null,
    previewColor: color,
    previewText: textColorOn(color),
    timeZones: TIME_ZONES,
    currencies: CURRENCIES,
    locales: LOCALES,
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
        const input = parseForm(brandingSchema, body);
        const changed = await updateBranding(ctx.db, ctx.org, input, ctx.actor);
        return { redirect: '/settings/branding', flash: changed.length ? 'Business details saved.' : 'Nothing changed.' };
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
          ? `That file is larger than ${MAX_LOGO_BYTES / (1024 * 1024)} MB. Upload a smaller PNG, JPEG or WebP logo.`
          : 'That upload couldn’t be read. Choose one PNG, JPEG or WebP file and try again.';
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
        if (!file) throw new FormError({ logo: 'Choose a PNG, JPEG or WebP file to upload.' });
        const logo = await normalizeLogo(file.buffer);
        const logoId = await saveOrgLogo(ctx.db, ctx.org.id, logo);
        await recordAudit(ctx.db, {
          actor: ctx.actor,
          action: 'org.logo_uploaded',
          subjectType: 'org_logo',
          subjectId: logoId,
          data: { sha256: logo.sha256, width: logo.width, height: logo.height, original_bytes: file.size },
        });
        return { redirect: '/settings/branding', flash: 'Logo uploaded.' };
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
      if (!org.logo_id) return { redirect: '/settings/branding', flash: 'There is no logo to remove.', flashType: 'info' };
      await db('organizations').where({ id: org.id }).update({ logo_id: null, updated_at: db.fn.now() });
      await recordAudit(db, { actor, action: 'org.logo_removed', subjectType: 'org_logo', subjectId: org.logo_id });
      return { redirect: '/settings/branding', flash: 'Logo removed. Your business name shows instead.' };
    },
    { ownerOnly: true },
  ),
);

// --- team: members and invitations ---

async function teamLocals(ctx: PageContext, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const { members, invitations } = await listTeam(ctx.db);
  const ownerCount = members.filter((m) => m.role === 'owner').length;
  return {
    title: 'Team',
    members: members.map((m) => ({ ...m, isSelf: m.id === ctx.user.id, removable: !(m.role === 'owner' && ownerCount <= 1) })),
    invitations,
    values: {},
    ...extra,
  };
}

adminRouter.get(
  '/settings/team',
  orgPage(async (ctx) => ({ render: 'admin/settings/team', locals: await teamLocals(ctx) }), { ownerOnly: true }),
);

adminRouter.post(
  '/settings/team/invitations',
  orgPage(
    async (ctx) => {
      const body = (ctx.req.body ?? {}) as Record<string, unknown>;
      try {
        const { email } = parseForm(inviteSchema, body);
        const invitation = await inviteMember(ctx.db, { orgId: ctx.org.id, email, invitedBy: ctx.user.id, actor: ctx.actor });
        // Sent before the transaction commits: if the mail server refuses it,
        // the owner sees an error and no dead invitation is left behind.
        await sendAccountEmail({
          to: email,
          template: 'invitation',
          locals: {
            inviterName: ctx.user.name,
            orgName: ctx.org.name,
            link: `${config.publicUrl}/invite/${invitation.token}`,
            expiresOn: formatDate(invitation.expiresAt, ctx.org.time_zone, ctx.org.locale),
          },
        }).catch((err: unknown) => {
          logger.error({ err: (err as Error).message }, 'invitation email failed');
          throw new FormError({ email: 'The invitation email couldn’t be sent just now. Please try again in a few minutes.' });
        });
        return { redirect: '/settings/team', flash: `Invitation sent to ${email}. The link works for 7 days.` };
      } catch (err) {
        return formFailure('admin/settings/team', err, await teamLocals(ctx, { values: body }));
      }
    },
    { ownerOnly: true },
  ),
);

adminRouter.post(
  '/settings/team/invitations/:id/revoke',
  orgPage(
    async ({ req, db, actor }) => {
      const id = idParam.safeParse(req.params.id);
      if (!id.success) throw notFound();
      await revokeInvitation(db, id.data, actor);
      return { redirect: '/settings/team', flash: 'Invitation withdrawn. Its link no longer works.' };
    },
    { ownerOnly: true },
  ),
);

adminRouter.post(
  '/settings/team/members/:id/remove',
  orgPage(
    async (ctx) => {
      const id = idParam.safeParse(ctx.req.params.id);
      if (!id.success) throw notFound();
      try {
        const member = await removeMember(ctx.db, id.data, ctx.actor);
        if (member.id === ctx.user.id) return { redirect: '/login', flash: 'You left the team.' };
        return { redirect: '/settings/team', flash: `${member.name} was removed from the team.` };
      } catch (err) {
        return formFailure('admin/settings/team', err, await teamLocals(ctx));
      }
    },
    { ownerOnly: true },
  ),
);

adminRouter.post(
  '/settings/team/members/:id/role',
  orgPage(
    async (ctx) => {
      const id = idParam.safeParse(ctx.req.params.id);
      if (!id.success) throw notFound();
      const role = (ctx.req.body as Record<string, unknown> | undefined)?.role;
      try {
        if (role !== 'owner' && role !== 'staff') throw new FormError({ _form: 'Choose owner or staff.' });
        const member = await changeRole(ctx.db, id.data, role, ctx.actor);
        return { redirect: '/settings/team', flash: `${member.name} is now ${role === 'owner' ? 'an owner' : 'staff'}.` };
      } catch (err) {
        return formFailure('admin/settings/team', err, await teamLocals(ctx));
      }
    },
    { ownerOnly: true },
  ),
);
