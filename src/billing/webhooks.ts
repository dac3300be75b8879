// The platform's own subscription events at /webhooks/stripe/platform.
import { Router } from 'express';

export const webhookRouter = Router();
