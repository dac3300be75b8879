// Admin pages for leads.
import { Router } from 'express';

export const adminRouter = Router();
