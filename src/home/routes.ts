// The contractor's home page.
import { Router } from 'express';
import { orgPage } from '../http/page.js';

export const adminRouter = Router();

adminRouter.get(
  '/',
  orgPage(async () => ({ render: 'admin/home', locals: { title: 'Home' } })),
);
