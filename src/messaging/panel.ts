// The "send the portal link" panel and delivery history on a customer's page.
import type { Db } from '../db/tenancy.js';
import type { CustomerPanelContext } from '../portal/panel.js';

/** Locals for views/partials/messaging-panel.hbs. */
export async function loadMessagingPanel(_db: Db, _ctx: CustomerPanelContext): Promise<Record<string, unknown>> {
  return {};
}
