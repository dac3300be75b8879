// One shape for every Stripe webhook endpoint (after Ghost's webhook controller):
// raw body, signature checked before anything else, missing signature → 400,
// bad signature or a timestamp more than 5 minutes off either way → 401,
// handler failure → 500 so Stripe retries.
import express, { type Request, type RequestHandler, type Response } from 'express';
import type Stripe from 'stripe';
import { logger } from '../logger.js';
import { getStripe } from './client.js';

/** Stripe's own default: a signature older than this is refused, and so is one this far in the future. */
const TOLERANCE_SECONDS = 5 * 60;

/**
 * The signed timestamp (`t=`) of a Stripe-Signature header, or null when there
 * is not exactly one. The SDK checks only that it isn't too old.
 */
function signedTimestamp(header: string): number | null {
  const values = header
    .split(',')
    .map((part) => part.trim().split('='))
    .filter(([key]) => key === 't')
    .map(([, value]) => value);
  if (values.length !== 1 || !/^\d{1,12}$/.test(String(values[0]))) return null;
  return Number(values[0]);
}

export interface StripeWebhookOptions {
  /** For logs: which endpoint this is. */
  name: string;
  /** The signing secret, or undefined when the endpoint isn't configured. */
  secret: () => string | undefined;
  /** Applies the event; what it returns is echoed as `outcome`. Throws → 500. */
  handle: (event: Stripe.Event) => Promise<string>;
}

export function stripeWebhook(options: StripeWebhookOptions): RequestHandler[] {
  // Signatures cover the exact bytes sent: parse nothing before checking.
  const raw = express.raw({ type: () => true, limit: '1mb' });
  const handler = async (req: Request, res: Response) => {
    const secret = options.secret();
    if (!secret) {
      logger.error(`${options.name}: signing secret or Stripe key not configured; webhook refused`);
      return res.status(503).json({ error: 'not_configured', message: 'Webhook signing secret is not configured' }); // i18n-exempt: answers to Stripe's webhook sender
    }
    const signature = req.header('stripe-signature'); // i18n-exempt: answers to Stripe's webhook sender
    if (!signature) return res.status(400).json({ error: 'missing_signature', message: 'Missing Stripe-Signature header' }); // i18n-exempt: answers to Stripe's webhook sender
    let event: Stripe.Event;
    try {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      event = getStripe().webhooks.constructEvent(body, signature, secret, TOLERANCE_SECONDS);
    } catch {
      return res.status(401).json({ error: 'bad_signature', message: 'Signature verification failed' }); // i18n-exempt: answers to Stripe's webhook sender
    }
    // A signature dated in the future would stay replayable until long after it was sent.
    const signedAt = signedTimestamp(signature);
    if (signedAt === null || signedAt > Date.now() / 1000 + TOLERANCE_SECONDS) {
      return res.status(401).json({ error: 'bad_timestamp', message: 'Signature timestamp is more than 5 minutes in the future' }); // i18n-exempt: answers to Stripe's webhook sender
    }
    try {
      const outcome = await options.handle(event);
      res.status(200).json({ received: true, outcome });
    } catch (err) {
      // The event's transaction rolled back, so nothing of it was kept; Stripe retries.
      logger.error({ err, event: event.id, type: event.type }, `${options.name}: event failed`);
      res.status(500).json({ error: 'handler_failed', message: 'Event could not be processed; retry later' }); // i18n-exempt: answers to Stripe's webhook sender
    }
  };
  return [raw, handler];
}
