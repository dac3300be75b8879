// The "send the portal link" panel and delivery history on a customer's page.
import type { Db } from '../db/tenancy.js';
import type { CustomerPanelContext } from '../portal/panel.js';
import { activePortalLink } from '../portal/service.js';
import { CHANNELS, CONTEXT_LABELS, CONTEXTS, type Channel } from './schema.js';
import { channelSetupProblem, destinationFor, leadDeliveries } from './service.js';

/** Locals for views/partials/messaging-panel.hbs. */
export async function loadMessagingPanel(db: Db, ctx: CustomerPanelContext): Promise<Record<string, unknown>> {
  const lead = { id: ctx.lead.id, first_name: ctx.lead.first_name, last_name: '', email: ctx.lead.email, phone: ctx.lead.phone };
  const link = await activePortalLink(db, lead.id);
  const history = await leadDeliveries(db, lead.id);
  const channels = Object.fromEntries(
    CHANNELS.map((channel: Channel) => {
      const destination = destinationFor(lead, channel);
      const reason = channelSetupProblem(channel) ?? destination.problem ?? (link ? null : 'needs an active portal link.');
      return [channel, { enabled: !reason, to: destination.to, reason }];
    }),
  );
  return {
    leadId: lead.id,
    hasLink: !!link,
    sms: channels.sms,
    email: channels.email,
    contexts: CONTEXTS.filter((c) => c !== 'invoice').map((value) => ({ value, label: CONTEXT_LABELS[value] })),
    history,
  };
}
