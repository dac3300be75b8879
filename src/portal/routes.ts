// Customer portal at /p/<token> (no session) and the contractor's link management.
import { Router } from 'express';

/** Mounted at /p before sessions: a portal visitor has no account. */
export const portalRouter = Router();

export const adminRouter = Router();
