// The portal-link panel on a customer's page (Generate / Copy / Revoke / Regenerate).
import type { Db } from '../db/tenancy.js';
import type { OrgRow } from '../orgs/service.js';
import type { Plan } from '../plans.js';

export interface CustomerPanelContext {
  lead: { id: string; first_name: string; email: string | null; phone: string | null };
  org: OrgRow;
  plan: Plan;
}

/** Locals for views/partials/portal-panel.hbs. */
export async function loadPortalPanel(_db: Db, _ctx: CustomerPanelContext): Promise<Record<string, unknown>> {
  return {};
}
