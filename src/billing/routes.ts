// Plans and the org's own subscription: contractor pages.
import { Router } from 'express';

export const adminRouter = Router();
