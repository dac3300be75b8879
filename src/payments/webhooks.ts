// Stripe Connect events (connected accounts' payments) at /webhooks/stripe.
import { Router } from 'express';

export const webhookRouter = Router();
