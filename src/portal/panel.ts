// The portal-link panel on a customer's page (Generate / Copy / Revoke / Regenerate).
import type { Db } from '../db/tenancy.js';
import type { OrgRow } from '../orgs/service.js';
import type { Plan } from '../plans.js';
import { portalLimitMessage, portalLinkUsage, portalUrl } from './service.js';
import { decryptPortalToken } from './token.js';

export interface CustomerPanelContext {
  lead: { id: string; first_name: string; email: string | null; phone: string | null };
  org: OrgRow;
  plan: Plan;
}

interface PanelLinkRow {
  id: string;
  token_ciphertext: string;
  created_at: Date;
  last_viewed_at: Date | null;
  view_count: number;
  created_by_name: string | null;
}

/** Locals for views/partials/portal-panel.hbs. */
export async function loadPortalPanel(db: Db, ctx: CustomerPanelContext): Promise<Record<string, unknown>> {
  const [row, usage] = await Promise.all([
    db('portal_links as l')
      .leftJoin('users as u', 'u.id', 'l.created_by')
      .where('l.lead_id', ctx.lead.id)
      .whereNull('l.revoked_at')
      .first<PanelLinkRow | undefined>('l.id', 'l.token_ciphertext', 'l.created_at', 'l.last_viewed_at', 'l.view_count', 'u.name as created_by_name'),
    portalLinkUsage(db),
  ]);
  const base = `/customers/${ctx.lead.id}/portal-link`;
  return {
    leadId: ctx.lead.id,
    firstName: ctx.lead.first_name,
    link: row
      ? {
          id: row.id,
          url: portalUrl(decryptPortalToken(row.token_ciphertext)),
          created_at: row.created_at,
          created_by_name: row.created_by_name,
          last_viewed_at: row.last_viewed_at,
          view_count: row.view_count,
        }
      : null,
    usage,
    canGenerate: !usage.atLimit,
    limitMessage: usage.atLimit ? portalLimitMessage(usage) : null,
    generateAction: base,
    revokeAction: `${base}/revoke`,
    regenerateAction: `${base}/regenerate`,
  };
}
