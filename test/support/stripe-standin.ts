// A local stand-in for the Stripe API: a node:http server that the real stripe
// SDK is pointed at (config.stripe.apiUrl). It records every request and
// answers from a route table; add routes with `route()` for the endpoints you
// use (later routes win, so a test can override a default one).
import crypto from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import qs from 'qs';
import Stripe from 'stripe';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, unknown>;
  /** The form-encoded body, decoded with Stripe's bracket notation (`metadata[org_id]`). */
  body: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  idempotencyKey?: string;
  stripeAccount?: string;
}

export interface StandInResponse {
  status?: number;
  body: unknown;
}

export type StandInHandler = (req: RecordedRequest, params: Record<string, string>) => StandInResponse | Promise<StandInResponse>;

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: StandInHandler;
}

export type StripeObject = Record<string, unknown> & { id: string };

export function stripeError(status: number, message: string, code = 'resource_missing', type = 'invalid_request_error'): StandInResponse {
  return { status, body: { error: { type, code, message } } };
}

export class StripeStandIn {
  readonly requests: RecordedRequest[] = [];
  readonly customers = new Map<string, StripeObject>();
  readonly checkoutSessions = new Map<string, StripeObject>();
  readonly subscriptions = new Map<string, StripeObject>();
  private readonly routes: Route[] = [];
  private readonly idempotent = new Map<string, StandInResponse>();
  private server: http.Server | undefined;
  url = '';

  constructor() {
    this.installDefaultRoutes();
  }

  /** Adds a route; `:name` segments become params. Routes added later are tried first. */
  route(method: string, path: string, handler: StandInHandler): this {
    const keys: string[] = [];
    const source = path.replace(/:([A-Za-z_]+)/g, (_m, key: string) => {
      keys.push(key);
      return '([^/]+)';
    });
    this.routes.unshift({ method: method.toUpperCase(), pattern: new RegExp(`^${source}$`), keys, handler });
    return this;
  }

  /** Requests to one endpoint, e.g. ('POST', '/v1/customers'). */
  requestsTo(method: string, path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method.toUpperCase() && r.path === path);
  }

  /** A Stripe-shaped subscription on a price, stored so subscriptions.retrieve finds it. */
  putSubscription(input: {
    id?: string;
    customer: string;
    status: Stripe.Subscription.Status;
    price: string;
    metadata?: Record<string, string>;
  }): StripeObject {
    const id = input.id ?? `sub_${crypto.randomBytes(8).toString('hex')}`;
    const subscription: StripeObject = {
      id,
      object: 'subscription',
      customer: input.customer,
      status: input.status,
      metadata: input.metadata ?? {},
      items: {
        object: 'list',
        data: [
          { id: `si_${crypto.randomBytes(6).toString('hex')}`, object: 'subscription_item', price: { id: input.price, object: 'price' } },
        ],
      },
      created: Math.floor(Date.now() / 1000),
    };
    this.subscriptions.set(id, subscription);
    return subscription;
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { type: 'api_error', message: (err as Error).message } }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const recorded: RecordedRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: url.pathname,
      query: qs.parse(url.search.slice(1)),
      body: qs.parse(raw),
      headers: req.headers,
      idempotencyKey: header('idempotency-key'),
      stripeAccount: header('stripe-account'),
    };
    this.requests.push(recorded);

    const replayKey = recorded.idempotencyKey ? `${recorded.method} ${recorded.path} ${recorded.idempotencyKey}` : undefined;
    let response = replayKey ? this.idempotent.get(replayKey) : undefined;
    if (!response) {
      response = stripeError(404, `Unrecognized request URL (${recorded.method}: ${recorded.path})`, 'unknown_route');
      for (const route of this.routes) {
        if (route.method !== recorded.method) continue;
        const match = route.pattern.exec(recorded.path);
        if (!match) continue;
        const params = Object.fromEntries(route.keys.map((k, i) => [k, decodeURIComponent(match[i + 1])]));
        response = await route.handler(recorded, params);
        break;
      }
      // Stripe replays the first answer to a repeated idempotency key.
      if (replayKey && (response.status ?? 200) < 500) this.idempotent.set(replayKey, response);
    }
    res.writeHead(response.status ?? 200, {
      'content-type': 'application/json',
      'request-id': `req_${crypto.randomBytes(6).toString('hex')}`,
    });
    res.end(JSON.stringify(response.body));
  }

  private installDefaultRoutes(): void {
    const newId = (prefix: string) => `${prefix}_${crypto.randomBytes(10).toString('hex')}`;

    this.route('POST', '/v1/customers', (req) => {
      const customer: StripeObject = {
        id: newId('cus'),
        object: 'customer',
        name: req.body.name,
        email: req.body.email,
        metadata: req.body.metadata ?? {},
      };
      this.customers.set(customer.id, customer);
      return { body: customer };
    });

    this.route('POST', '/v1/checkout/sessions', (req) => {
      const id = newId('cs_test');
      const session: StripeObject = {
        id,
        object: 'checkout.session',
        mode: req.body.mode,
        customer: req.body.customer ?? null,
        client_reference_id: req.body.client_reference_id ?? null,
        metadata: req.body.metadata ?? {},
        success_url: req.body.success_url,
        cancel_url: req.body.cancel_url,
        status: 'open',
        subscription: null,
        url: `https://checkout.stripe.com/c/pay/${id}`,
      };
      this.checkoutSessions.set(id, session);
      return { body: session };
    });

    this.route('POST', '/v1/billing_portal/sessions', (req) => {
      const id = newId('bps');
      return {
        body: {
          id,
          object: 'billing_portal.session',
          customer: req.body.customer,
          return_url: req.body.return_url,
          url: `https://billing.stripe.com/p/session/${id}`,
        },
      };
    });

    this.route('GET', '/v1/subscriptions/:id', (_req, params) => {
      const subscription = this.subscriptions.get(params.id);
      return subscription ? { body: subscription } : stripeError(404, `No such subscription: '${params.id}'`);
    });
  }
}

/** What a Stripe webhook endpoint answers when it took the event (src/stripe/webhook.ts). */
interface WebhookReply {
  received: true;
  outcome: string;
}

/** The `outcome` a webhook endpoint echoed: 'processed', 'duplicate', 'ignored', ... */
export function webhookOutcome(res: { body: unknown }): string {
  return (res.body as WebhookReply).outcome;
}

/** A signed webhook delivery: the exact body and its Stripe-Signature header (made by the SDK). */
export function signedStripeEvent(
  event: Record<string, unknown>,
  secret: string,
  timestamp?: number,
): { payload: string; signature: string } {
  const payload = JSON.stringify(event);
  const signature = new Stripe('sk_test_signing_only').webhooks.generateTestHeaderString({ payload, secret, timestamp });
  return { payload, signature };
}

/** An event envelope as Stripe sends it. */
export function stripeEvent(
  type: string,
  object: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> & { id: string } {
  return {
    id: `evt_${crypto.randomBytes(12).toString('hex')}`,
    object: 'event',
    api_version: '2025-01-01',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
    ...extra,
  };
}
