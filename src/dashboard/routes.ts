// The contractor's home page and each customer's page.
import { Router } from 'express';
import { orgPage } from '../http/page.js';
import { routeId } from '../lib/ids.js';
import { stageOptions } from '../leads/schema.js';
import { loadCustomerPage, loadHome } from './queries.js';

export const adminRouter = Router();

adminRouter.get(
  '/',
  orgPage(async ({ db }) => ({ render: 'admin/home', locals: { title: 'dashboard:nav.home', ...(await loadHome(db)) } })),
);

adminRouter.get(
  '/customers/:id',
  orgPage(async ({ req, db }) => ({
    render: 'admin/customers/show',
    locals: { ...(await loadCustomerPage(db, routeId(req.params))), stageOptions },
  })),
);
