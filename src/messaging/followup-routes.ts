// Settings → Automatic follow-ups (Pro; other plans see the page locked with the
// plan that has it) and the per-customer "Pause follow-ups" switch.
import { Router } from 'express';
import type { PageContext } from '../http/page.js';
import { formFailure, orgPage } from '../http/page.js';
import { FormError, forbidden } from '../lib/errors.js';
import { formValues, parseForm } from '../lib/forms.js';
import { routeId } from '../lib/ids.js';
import { QUIET_FROM_HOUR, QUIET_UNTIL_HOUR } from '../lib/followup-rules.js';
import { setFollowupsPaused } from '../leads/commands.js';
import { followupRulesFormSchema, followupSettings, followupsPlan, rulesFromForm, saveFollowupRules } from './followups.js';
import { z } from 'zod';

export const adminRouter = Router();

const hour = (h: number) => `${((h + 11) % 12) + 1} ${h < 12 ? 'am' : 'pm'}`;

async function settingsLocals(
  ctx: PageContext,
  values?: Record<string, unknown>,
  errors?: Record<string, string>,
): Promise<Record<string, unknown>> {
  const rules = await followupSettings(ctx.db);
  const gate = followupsPlan(ctx.org.plan);
  return {
    title: 'Automatic follow-ups',
    ...gate,
    planName: ctx.plan.name,
    isOwner: ctx.user.role === 'owner',
    timeZone: ctx.org.time_zone,
    quietFrom: hour(QUIET_FROM_HOUR),
    quietUntil: hour(QUIET_UNTIL_HOUR),
    groups: (['proposal', 'invoice'] as const).map((document) => ({
      heading: document === 'proposal' ? 'Proposals' : 'Invoices',
      rules: rules
        .filter((r) => r.document === document)
        .map((r) => {
          const [before, after] = r.label.split(' N ');
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
        throw forbidden(`Automatic follow-ups are part of the ${gate.requiredPlan} plan; your plan is ${ctx.plan.name}.`);
      try {
        const form = parseForm(followupRulesFormSchema, ctx.req.body);
        await saveFollowupRules(ctx.db, rulesFromForm(form), ctx.actor);
        return { redirect: '/settings/followups', flash: 'Follow-up rules saved.' };
      } catch (err) {
        if (!(err instanceof FormError)) throw err;
        return formFailure('admin/settings/followups', err, await settingsLocals(ctx, formValues(ctx.req.body), err.fields));
      }
    },
    { ownerOnly: true },
  ),
);

const pauseSchema = z.object({ paused: z.enum(['1', '0'], 'choose pause or resume') });

adminRouter.post(
  '/customers/:id/followups',
  orgPage(async ({ req, db, actor }) => {
    const id = routeId(req.params);
    const { paused } = parseForm(pauseSchema, req.body);
    await setFollowupsPaused(db, id, paused === '1', actor);
    return {
      redirect: `/customers/${id}#followups`,
      flash: paused === '1' ? 'Automatic follow-ups paused for this customer.' : 'Automatic follow-ups resumed for this customer.',
    };
  }),
);
