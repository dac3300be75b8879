// The portal-link panel on a customer's page (Generate / Copy / Revoke / Regenerate).
import type { Db } from '../db/tenancy.js';
import { activeLinkDetails, expiredLinkDate, portalLimitMessage, portalLinkUsage, recentVisits } from './queries.js';

/** Locals for views/partials/portal-panel.hbs. */
export async function loadPortalPanel(db: Db, lead: { id: string; first_name: string }): Promise<Record<string, unknown>> {
  const link = await activeLinkDetails(db, lead.id);
  const usage = await portalLinkUsage(db);
  const base = `/customers/${lead.id}/portal-link`; // i18n-exempt: a path
  return {
    leadId: lead.id,
    firstName: lead.first_name,
    visits: await recentVisits(db, lead.id),
    expiredOn: link ? null : await expiredLinkDate(db, lead.id),
    link,
    usage,
    canGenerate: !usage.atLimit,
    limitMessage: usage.atLimit ? portalLimitMessage(usage) : null,
    generateAction: base,
    revokeAction: `${base}/revoke`,
    regenerateAction: `${base}/regenerate`,
    expiryAction: `${base}/expiry`,
    // "Never" preselected only for a link that never expires; otherwise the default choice of 90 days.
    lifetimeOptions: ['never', '30', '90', '365'].map((value) => ({
      value,
      days: value === 'never' ? null : Number(value),
      selected: link?.expires_at ? value === '90' : value === 'never',
    })),
  };
}
