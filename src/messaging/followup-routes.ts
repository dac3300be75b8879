// Settings → Automatic follow-ups (Pro; other plans see the page locked with the
// plan that has it) and the per-customer "Pause follow-ups" switch.
import { Router } from 'express';
import type { PageContext } from '../http/page.js';
import { formFailure, orgPage } from '../http/page.js';
import { languageOf, t, type Language } from '../i18n/index.js';
import { FormError, forbidden } from '../lib/errors.js';
import { formValues, parseForm } from '../lib/forms.js';
import { routeId } from '../lib/ids.js';
import { QUIET_FROM_HOUR, QUIET_UNTIL_HOUR } from '../lib/followup-rules.js';
import { setFollowupsPaused } from '../leads/commands.js';
import { followupRulesFormSchema, followupSettings, followupsPlan, rulesFromForm, saveFollowupRules } from './followups.js';
import { z } from 'zod';

export const adminRouter = Router();

/** "8 pm" in English, "20:00" in Spanish. */
const hour = (lang: Language, h: number) => (lang === 'en' ? `${((h + 11) % 12) + 1} ${h < 12 ? 'am' : 'pm'}` : `${h}:00`);

async function settingsLocals(
  ctx: PageContext,
  values?: Record<string, unknown>,
  errors?: Record<string, string>,
): Promise<Record<string, unknown>> {
  const lang = languageOf(ctx.org.locale);
  const rules = await followupSettings(ctx.db);
  const gate = followupsPlan(ctx.org.plan);
  return {
    title: t(lang, 'messages:rules.title'),
    ...gate,
    planName: ctx.plan.name,
    isOwner: ctx.user.role === 'owner',
    timeZone: ctx.org.time_zone,
    quietFrom: hour(lang, QUIET_FROM_HOUR),
    quietUntil: hour(lang, QUIET_UNTIL_HOUR),
    groups: (['proposal', 'invoice'] as const).map((document) => ({
      heading: t(lang, document === 'proposal' ? 'messages:rules.proposals' : 'messages:rules.invoices'),
      rules: rules
        .filter((r) => r.document === document)
        .map((r) => {
          const before = t(lang, `${r.label}.before`);
          const after = t(lang, `${r.label}.after`);
          const enabled = values ? values[`${r.rule}_enabled`] === 'on' : r.enabled;
          const days = values ? values[`${r.rule}_days`] : r.days;
          return { rule: r.rule, before, after, enabled, days, error: errors?.[`${r.rule}_days`] };
        }),
    })),
  };
}

adminRouter.get(
  '/settings/followups',
  orgPage(async (ctx) => ({ render: 'admin/settings/followups', locals: await settingsLocals(ctx) })),
);

adminRouter.post(
  '/settings/followups',
  orgPage(
    async (ctx) => {
      const gate = followupsPlan(ctx.org.plan);
      if (!gate.available)
        throw forbidden(t(languageOf(ctx.org.locale), 'messages:rules.locked', { plan: gate.requiredPlan, current: ctx.plan.name }));
      try {
        const form = parseForm(followupRulesFormSchema, ctx.req.body);
        await saveFollowupRules(ctx.db, rulesFromForm(form), ctx.actor);
        return { redirect: '/settings/followups', flash: t(languageOf(ctx.org.locale), 'messages:rules.saved') };
      } catch (err) {
        if (!(err instanceof FormError)) throw err;
        return formFailure('admin/settings/followups', err, await settingsLocals(ctx, formValues(ctx.req.body), err.fields));
      }
    },
    { ownerOnly: true },
  ),
);

const pauseSchema = z.object({ paused: z.enum(['1', '0'], 'messages:rules.pauseOrResume') });

adminRouter.post(
  '/customers/:id/followups',
  orgPage(async ({ req, db, org, actor }) => {
    const id = routeId(req.params);
    const { paused } = parseForm(pauseSchema, req.body);
    await setFollowupsPaused(db, id, paused === '1', actor);
    return {
      redirect: `/customers/${id}#followups`,
      flash: t(languageOf(org.locale), paused === '1' ? 'messages:rules.paused' : 'messages:rules.resumed'),
    };
  }),
);
