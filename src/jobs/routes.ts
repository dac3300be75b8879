// Admin pages for jobs.
import { Router } from 'express';

export const adminRouter = Router();
