// Organization settings (admin) and public assets such as logos.
import { Router } from 'express';

export const adminRouter = Router();

/** Mounted before sessions: served to anyone (logos on portal pages). */
export const publicRouter = Router();
