// Admin pages for proposals.
import { Router } from 'express';

export const adminRouter = Router();
