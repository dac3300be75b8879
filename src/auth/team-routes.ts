// Settings → Team: members and invitations (owners only).
import { Router } from 'express';
import { config } from '../config.js';
import { formatLocale, languageOf } from '../i18n/index.js';
import { formFailure, orgPage, type PageContext } from '../http/page.js';
import { msg, t, type Language } from '../i18n/index.js';
import { formatDate } from '../lib/dates.js';
import { FormError } from '../lib/errors.js';
import { parseForm } from '../lib/forms.js';
import { routeId } from '../lib/ids.js';
import { logger } from '../logger.js';
import { sendAccountEmail } from '../mail/account-email.js';
import { changeRole, inviteMember, removeMember, revokeInvitation } from './commands.js';
import { listTeam } from './queries.js';
import { inviteSchema, roleFormSchema } from './schema.js';

export const teamRouter = Router();

async function teamLocals(ctx: PageContext, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const { members, invitations } = await listTeam(ctx.db);
  const ownerCount = members.filter((m) => m.role === 'owner').length;
  return {
    title: t(ctx.res.locals.lang as Language, 'settings:team.heading'),
    members: members.map((m) => ({ ...m, isSelf: m.id === ctx.user.id, removable: !(m.role === 'owner' && ownerCount <= 1) })),
    invitations,
    values: {},
    ...extra,
  };
}

teamRouter.get(
  '/settings/team',
  orgPage(async (ctx) => ({ render: 'admin/settings/team', locals: await teamLocals(ctx) }), { ownerOnly: true }),
);

teamRouter.post(
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
          lang: languageOf(ctx.org.locale),
          locals: {
            inviterName: ctx.user.name,
            orgName: ctx.org.name,
            link: `${config.publicUrl}/invite/${invitation.token}`,
            expiresOn: formatDate(invitation.expiresAt, ctx.org.time_zone, formatLocale(languageOf(ctx.org.locale), ctx.org.locale)),
          },
        }).catch((err: unknown) => {
          logger.error({ err: (err as Error).message }, 'invitation email failed');
          throw new FormError({ email: 'auth:error.inviteEmailFailed' });
        });
        return { redirect: '/settings/team', flash: msg('settings:team.flash.invited', { email }) };
      } catch (err) {
        return formFailure('admin/settings/team', err, await teamLocals(ctx, { values: body }));
      }
    },
    { ownerOnly: true },
  ),
);

teamRouter.post(
  '/settings/team/invitations/:id/revoke',
  orgPage(
    async ({ req, db, actor }) => {
      await revokeInvitation(db, routeId(req.params), actor);
      return { redirect: '/settings/team', flash: 'settings:team.flash.withdrawn' };
    },
    { ownerOnly: true },
  ),
);

teamRouter.post(
  '/settings/team/members/:id/remove',
  orgPage(
    async (ctx) => {
      const id = routeId(ctx.req.params);
      try {
        const member = await removeMember(ctx.db, id, ctx.actor);
        if (member.id === ctx.user.id) return { redirect: '/login', flash: 'settings:team.flash.left' };
        return { redirect: '/settings/team', flash: msg('settings:team.flash.removed', { name: member.name }) };
      } catch (err) {
        return formFailure('admin/settings/team', err, await teamLocals(ctx));
      }
    },
    { ownerOnly: true },
  ),
);

teamRouter.post(
  '/settings/team/members/:id/role',
  orgPage(
    async (ctx) => {
      const id = routeId(ctx.req.params);
      try {
        const parsed = roleFormSchema.safeParse(ctx.req.body);
        if (!parsed.success) throw new FormError({ _form: 'auth:field.ownerOrStaff' });
        const { role } = parsed.data;
        const member = await changeRole(ctx.db, id, role, ctx.actor);
        return {
          redirect: '/settings/team',
          flash: msg(role === 'owner' ? 'settings:team.flash.nowOwner' : 'settings:team.flash.nowStaff', { name: member.name }),
        };
      } catch (err) {
        return formFailure('admin/settings/team', err, await teamLocals(ctx));
      }
    },
    { ownerOnly: true },
  ),
);
