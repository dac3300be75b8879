// Twilio status callbacks at /webhooks/twilio.
import { Router } from 'express';

export const webhookRouter = Router();
