// Sending portal links by SMS and email: contractor pages.
import { Router } from 'express';

export const adminRouter = Router();
