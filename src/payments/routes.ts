// Admin pages for payments.
import { Router } from 'express';

export const adminRouter = Router();
