// The "send the portal link" panel and delivery history on a customer's page.
import type { Db } from '../db/tenancy.js';
import { languageOf, t } from '../i18n/index.js';
import { planFor } from '../plans.js';
import { activePortalLink } from '../portal-links/queries.js';
import { channelSetupProblem, destinationFor, leadDeliveries } from './queries.js';
import { CHANNELS, CONTEXT_LABELS, CONTEXTS, type Channel } from './schema.js';

/** Locals for views/partials/messaging-panel.hbs. */
export async function loadMessagingPanel(
  db: Db,
  customer: { id: string; first_name: string; email: string | null; phone: string | null },
): Promise<Record<string, unknown>> {
  const lead = { ...customer, last_name: '' };
  const link = await activePortalLink(db, lead.id);
  const history = await leadDeliveries(db, lead.id);
  const org = await db('organizations').first<{ plan: string; locale: string }>('plan', 'locale');
  const lang = languageOf(org.locale);
  const channels = Object.fromEntries(
    CHANNELS.map((channel: Channel) => {
      const destination = destinationFor(lead, channel, lang);
      const reason = channelSetupProblem(channel, lang) ?? destination.problem ?? (link ? null : t(lang, 'messages:panel.needsLink'));
      return [channel, { enabled: !reason, to: destination.to, reason }];
    }),
  );
  const pause = await db('leads').where({ id: lead.id }).first<{ followups_paused_at: Date | null }>('followups_paused_at');
  return {
    leadId: lead.id,
    followups: { available: planFor(org.plan).automaticFollowUps, pausedAt: pause?.followups_paused_at ?? null },
    hasLink: !!link,
    sms: channels.sms,
    email: channels.email,
    contexts: CONTEXTS.filter((c) => c !== 'invoice').map((value) => ({ value, label: t(lang, CONTEXT_LABELS[value]) })),
    history,
  };
}
