// Admin pages for invoices.
import { Router } from 'express';

export const adminRouter = Router();
