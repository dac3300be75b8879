// The platform's Stripe client; STRIPE_API_URL points it at a local stand-in in tests.
import Stripe from 'stripe';
import { config } from '../config.js';

let client: Stripe | undefined;

function createStripe(secretKey = config.stripe.secretKey, apiUrl = config.stripe.apiUrl): Stripe {
  if (!secretKey) throw new Error('STRIPE_SECRET_KEY is not set');
  const options: Stripe.StripeConfig = { maxNetworkRetries: 2, appInfo: { name: 'Porchlight' } }; // i18n-exempt: the app's name sent to Stripe
  if (apiUrl) {
    const url = new URL(apiUrl);
    options.host = url.hostname;
    options.port = url.port || (url.protocol === 'https:' ? 443 : 80);
    options.protocol = url.protocol.replace(':', '') as 'http' | 'https';
    options.maxNetworkRetries = 0;
  }
  return new Stripe(secretKey, options);
}

/** Shared client built from configuration; reset() after tests change config. */
export function getStripe(): Stripe {
  client ??= createStripe();
  return client;
}

export function resetStripe(): void {
  client = undefined;
}

export function stripeConfigured(): boolean {
  return Boolean(config.stripe.secretKey);
}
