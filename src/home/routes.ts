// The contractor's home page.
import { Router } from 'express';
import { orgPage } from '../http/page.js';
import { loadHome } from './service.js';

export const adminRouter = Router();

adminRouter.get(
  '/',
  orgPage(async ({ db }) => ({ render: 'admin/home', locals: { title: 'Home', ...(await loadHome(db)) } })),
);
