// A local Stripe stand-in for Connect (used by the tests, the reconcile
// benchmark, and `npm run dev` without Stripe keys: src/dev/local-stripe.ts): accounts, account links, Checkout
// Sessions, PaymentIntents, charges and refunds, Customers and card
// PaymentMethods (saved by a Checkout with setup_future_usage, detachable, and
// charged off-session: Stripe's test cards decide whether such a charge
// succeeds, is declined or needs authentication), scoped per connected account
// by the Stripe-Account header. It records every request (with its
// Stripe-Account and Idempotency-Key headers), replays idempotent requests,
// paginates lists like Stripe (newest first, starting_after, has_more) and can
// be told to refuse an account (revoked access). Tests and the benchmark drive
// "the customer paid" through its helpers, then sign events with the SDK.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = Record<string, unknown>;

export interface RecordedRequest {
  method: string;
  path: string;
  params: Json;
  stripeAccount?: string;
  idempotencyKey?: string;
}

export interface StandInAccount {
  id: string;
  object: 'account';
  charges_enabled: boolean;
  details_submitted: boolean;
  payouts_enabled: boolean;
  controller: Json;
  metadata: Record<string, string>;
  created: number;
}

export interface StandInSession {
  id: string;
  object: 'checkout.session';
  mode: string;
  status: 'open' | 'complete' | 'expired';
  payment_status: 'paid' | 'unpaid' | 'no_payment_required';
  amount_total: number;
  currency: string;
  metadata: Record<string, string>;
  client_reference_id: string | null;
  payment_intent: string | null;
  customer: string | null;
  success_url: string;
  cancel_url: string | null;
  url: string | null;
  created: number;
  expires_at: number;
  /** Not a Stripe field: what Checkout will put on the PaymentIntent. */
  _payment_intent_data: Json;
  _line_items: Json;
}

export interface StandInPaymentIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_received: number;
  currency: string;
  status: 'succeeded' | 'processing' | 'requires_payment_method' | 'canceled';
  metadata: Record<string, string>;
  latest_charge: string | null;
  application_fee_amount: number | null;
  created: number;
  customer?: string | null;
  payment_method?: string | null;
  setup_future_usage?: string | null;
  last_payment_error?: Json | null;
}

export interface StandInCustomer {
  id: string;
  object: 'customer';
  email: string | null;
  name: string | null;
  metadata: Record<string, string>;
  created: number;
}

export interface StandInPaymentMethod {
  id: string;
  object: 'payment_method';
  type: 'card';
  customer: string | null;
  card: { brand: string; last4: string; exp_month: number; exp_year: number; funding: string };
  created: number;
  /** Not a Stripe field: the whole test card number, which decides how off-session charges go. */
  _number: string;
}

/** Stripe's test cards the stand-in knows: how an off-session charge on each one goes. */
export const TEST_CARDS = {
  /** Succeeds. */
  visa: '4242424242424242',
  /** Succeeds (another brand). */
  mastercard: '5555555555554444',
  /** Declined: card_declined (generic_decline). */
  declined: '4000000000000002',
  /** Needs the customer to authenticate every time: off-session charges fail with authentication_required. */
  authenticationRequired: '4000002760003184',
} as const;

export interface StandInCharge {
  id: string;
  object: 'charge';
  amount: number;
  amount_refunded: number;
  refunded: boolean;
  currency: string;
  payment_intent: string;
  status: 'succeeded';
  created: number;
}

export interface StandInRefund {
  id: string;
  object: 'refund';
  amount: number;
  currency: string;
  charge: string;
  payment_intent: string;
  status: 'succeeded' | 'pending' | 'failed';
  created: number;
}

interface AccountData {
  sessions: StandInSession[];
  paymentIntents: StandInPaymentIntent[];
  charges: StandInCharge[];
  refunds: StandInRefund[];
  customers: StandInCustomer[];
  paymentMethods: StandInPaymentMethod[];
  byId: Map<string, StandInSession | StandInPaymentIntent | StandInCharge | StandInRefund | StandInCustomer | StandInPaymentMethod>;
}

class StandInError extends Error {
  constructor(
    public readonly status: number,
    public readonly type: string,
    message: string,
    public readonly code?: string,
    public readonly extra: Json = {},
  ) {
    super(message);
  }
}

let sequence = 0;
function newId(prefix: string): string {
  sequence += 1;
  return `${prefix}_${sequence.toString(36).padStart(6, '0')}${crypto.randomBytes(6).toString('hex')}`;
}

const now = () => Math.floor(Date.now() / 1000);

/** Parses Stripe's form encoding (`a[b][0][c]=v`) into nested objects. */
function parseStripeForm(pairs: Iterable<[string, string]>): Json {
  const root: Json = {};
  for (const [rawKey, value] of pairs) {
    const parts = rawKey.replace(/\]/g, '').split('[');
    let node: Json = root;
    parts.forEach((part, i) => {
      if (i === parts.length - 1) node[part] = value;
      else {
        node[part] ??= {};
        node = node[part] as Json;
      }
    });
  }
  return root;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export interface StandInOptions {
  /** Where a Checkout Session's `url` points (default: a stripe.test address nothing serves). */
  checkoutUrl?: (sessionId: string) => string;
  /** New accounts are onboarded at once and an account link leads straight back (the local test checkout). */
  instantOnboarding?: boolean;
}

export class StripeConnectStandIn {
  constructor(private readonly options: StandInOptions = {}) {}

  readonly requests: RecordedRequest[] = [];
  readonly accounts = new Map<string, StandInAccount>();
  private readonly data = new Map<string, AccountData>();
  private readonly idempotent = new Map<string, { body: string; status: number; response: unknown }>();
  private readonly refused = new Map<string, { status: number; message: string }>();
  private readonly hungUp = new Set<string>();
  private server?: http.Server;
  /** Counts only: set false for the benchmark to skip recording requests. */
  recordRequests = true;

  /** Starts on an ephemeral port; returns the base URL for STRIPE_API_URL. */
  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { type: 'api_error', message: (err as Error).message } }));
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  requestsTo(method: string, pathPrefix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(pathPrefix));
  }

  /** The paths of every GET made on behalf of this connected account, in order (tests count what a step asked Stripe). */
  readsBy(account: string): string[] {
    return this.requestsTo('GET', '/v1/')
      .filter((r) => r.stripeAccount === account)
      .map((r) => r.path);
  }

  // ------------------------------------------------------------- test helpers

  /** A connected account as if created and onboarded elsewhere. */
  addAccount(attrs: Partial<Pick<StandInAccount, 'charges_enabled' | 'details_submitted'>> & { id?: string } = {}): StandInAccount {
    const account: StandInAccount = {
      id: attrs.id ?? newId('acct'),
      object: 'account',
      charges_enabled: attrs.charges_enabled ?? false,
      details_submitted: attrs.details_submitted ?? false,
      payouts_enabled: attrs.charges_enabled ?? false,
      controller: { stripe_dashboard: { type: 'full' }, fees: { payer: 'account' }, losses: { payments: 'stripe' } },
      metadata: {},
      created: now(),
    };
    this.accounts.set(account.id, account);
    return account;
  }

  /** The contractor finished (or broke) onboarding on Stripe's side. */
  setAccountStatus(id: string, status: { charges_enabled: boolean; details_submitted: boolean }): StandInAccount {
    const account = this.accounts.get(id);
    if (!account) throw new Error(`no account ${id}`);
    Object.assign(account, status, { payouts_enabled: status.charges_enabled });
    return account;
  }

  /** Every API call for this connected account answers with an error (e.g. 401: access revoked). */
  refuseAccount(
    id: string,
    status = 401,
    message = `The provided key does not have access to account '${id}' (or that account does not exist). Application access may have been revoked.`,
  ): void {
    this.refused.set(id, { status, message });
  }

  allowAccount(id: string): void {
    this.refused.delete(id);
    this.hungUp.delete(id);
  }

  /** Requests on this connected account get no answer at all: the connection is closed (the SDK's StripeConnectionError). */
  hangUpOn(id: string): void {
    this.hungUp.add(id);
  }

  private dataFor(account: string): AccountData {
    let d = this.data.get(account);
    if (!d) {
      d = { sessions: [], paymentIntents: [], charges: [], refunds: [], customers: [], paymentMethods: [], byId: new Map() };
      this.data.set(account, d);
    }
    return d;
  }

  /** The session with this id, on whichever connected account holds it. */
  findSession(id: string): { account: string; session: StandInSession } | undefined {
    for (const [account, d] of this.data) {
      const found = d.byId.get(id);
      if (found?.object === 'checkout.session') return { account, session: found };
    }
    return undefined;
  }

  session(account: string, id: string): StandInSession {
    const found = this.dataFor(account).byId.get(id);
    if (!found || found.object !== 'checkout.session') throw new Error(`no session ${id} on ${account}`);
    return found;
  }

  paymentIntent(account: string, id: string): StandInPaymentIntent {
    const found = this.dataFor(account).byId.get(id);
    if (!found || found.object !== 'payment_intent') throw new Error(`no payment intent ${id} on ${account}`);
    return found;
  }

  charge(account: string, id: string): StandInCharge {
    const found = this.dataFor(account).byId.get(id);
    if (!found || found.object !== 'charge') throw new Error(`no charge ${id} on ${account}`);
    return found;
  }

  /**
   * The customer pays a session. `async: true` is a delayed method (bank debit):
   * the session completes unpaid and the PaymentIntent is processing until
   * settleAsync() is called.
   */
  completeCheckout(
    account: string,
    sessionId: string,
    options: { async?: boolean; created?: number; card?: string } = {},
  ): { session: StandInSession; paymentIntent: StandInPaymentIntent; charge: StandInCharge | null } {
    const session = this.session(account, sessionId);
    if (session.status !== 'open') throw new Error(`session ${sessionId} is ${session.status}; the customer can't pay it`);
    const created = options.created ?? now();
    const piData = session._payment_intent_data;
    const setupFutureUsage = str(piData.setup_future_usage) ?? null;
    // The card the customer typed; saved on the session's Customer when the payment asked to keep it.
    const saving = session.customer && setupFutureUsage ? session.customer : null;
    const paymentIntent = this.storePaymentIntent(account, {
      amount: session.amount_total,
      currency: session.currency,
      metadata: { ...((piData.metadata as Record<string, string> | undefined) ?? {}) },
      application_fee_amount: piData.application_fee_amount ? Number(piData.application_fee_amount) : null,
      created,
      customer: session.customer,
      payment_method: this.addPaymentMethod(account, options.card ?? TEST_CARDS.visa, saving).id,
      setup_future_usage: setupFutureUsage,
    });
    session.status = 'complete';
    session.url = null;
    session.payment_intent = paymentIntent.id;
    let charge: StandInCharge | null = null;
    if (!options.async) charge = this.succeed(account, paymentIntent, created);
    session.payment_status = options.async ? 'unpaid' : 'paid';
    return { session, paymentIntent, charge };
  }

  /** A card payment method (from a Stripe test card number), attached to a customer or not. */
  addPaymentMethod(account: string, number: string, customer: string | null = null, created = now()): StandInPaymentMethod {
    const d = this.dataFor(account);
    const digits = number.replace(/\D/g, '');
    const pm: StandInPaymentMethod = {
      id: newId('pm'),
      object: 'payment_method',
      type: 'card',
      customer,
      card: {
        brand: digits.startsWith('5') ? 'mastercard' : 'visa',
        last4: digits.slice(-4),
        exp_month: 12,
        exp_year: 2034,
        funding: 'credit',
      },
      created,
      _number: digits,
    };
    d.paymentMethods.push(pm);
    d.byId.set(pm.id, pm);
    return pm;
  }

  customers(account: string): StandInCustomer[] {
    return this.dataFor(account).customers;
  }

  /** The cards attached to this Customer (tests). */
  customerPaymentMethods(account: string, customerId: string): StandInPaymentMethod[] {
    return this.dataFor(account).paymentMethods.filter((pm) => pm.customer === customerId);
  }

  paymentMethod(account: string, id: string): StandInPaymentMethod {
    const found = this.dataFor(account).byId.get(id);
    if (!found || found.object !== 'payment_method') throw new Error(`no payment method ${id} on ${account}`);
    return found;
  }

  /** Every PaymentIntent on the account (newest last). */
  paymentIntents(account: string): StandInPaymentIntent[] {
    return this.dataFor(account).paymentIntents;
  }

  /** A delayed payment settles (succeeds) or fails. */
  settleAsync(
    account: string,
    sessionId: string,
    outcome: 'succeeded' | 'failed',
  ): { session: StandInSession; paymentIntent: StandInPaymentIntent } {
    const session = this.session(account, sessionId);
    const paymentIntent = this.paymentIntent(account, session.payment_intent!);
    if (outcome === 'succeeded') {
      this.succeed(account, paymentIntent, paymentIntent.created);
      session.payment_status = 'paid';
    } else {
      paymentIntent.status = 'requires_payment_method';
    }
    return { session, paymentIntent };
  }

  private succeed(account: string, paymentIntent: StandInPaymentIntent, created: number): StandInCharge {
    const d = this.dataFor(account);
    const charge: StandInCharge = {
      id: newId('ch'),
      object: 'charge',
      amount: paymentIntent.amount,
      amount_refunded: 0,
      refunded: false,
      currency: paymentIntent.currency,
      payment_intent: paymentIntent.id,
      status: 'succeeded',
      created,
    };
    d.charges.push(charge);
    d.byId.set(charge.id, charge);
    paymentIntent.status = 'succeeded';
    paymentIntent.amount_received = paymentIntent.amount;
    paymentIntent.latest_charge = charge.id;
    return charge;
  }

  /** The contractor refunds (part of) a payment from their Stripe Dashboard. */
  refund(account: string, paymentIntentId: string, amount?: number, created = now()): { refund: StandInRefund; charge: StandInCharge } {
    const d = this.dataFor(account);
    const paymentIntent = this.paymentIntent(account, paymentIntentId);
    const charge = this.charge(account, paymentIntent.latest_charge!);
    const refund: StandInRefund = {
      id: newId('re'),
      object: 'refund',
      amount: amount ?? charge.amount - charge.amount_refunded,
      currency: charge.currency,
      charge: charge.id,
      payment_intent: paymentIntent.id,
      status: 'succeeded',
      created,
    };
    d.refunds.push(refund);
    d.byId.set(refund.id, refund);
    charge.amount_refunded += refund.amount;
    charge.refunded = charge.amount_refunded >= charge.amount;
    return { refund, charge };
  }

  /** A whole paid Checkout payment in one step (benchmarks and reconciliation tests). */
  addPaidCheckout(
    account: string,
    input: { amount: number; currency: string; metadata: Record<string, string>; created?: number },
  ): { session: StandInSession; paymentIntent: StandInPaymentIntent; charge: StandInCharge | null } {
    const session = this.createSession(
      account,
      {
        mode: 'payment',
        line_items: {},
        metadata: input.metadata,
        payment_intent_data: { metadata: input.metadata },
        success_url: 'https://example.test/return',
        _amount: String(input.amount),
        _currency: input.currency,
      },
      input.created,
    );
    return this.completeCheckout(account, session.id, { created: input.created });
  }

  /** A card charged without Checkout (as autopay charges a saved card off-session), succeeded, in one step (tests). */
  addPaidPaymentIntent(
    account: string,
    input: { amount: number; currency: string; metadata: Record<string, string>; created?: number },
  ): { paymentIntent: StandInPaymentIntent; charge: StandInCharge } {
    const created = input.created ?? now();
    const paymentIntent = this.storePaymentIntent(account, {
      amount: input.amount,
      currency: input.currency,
      metadata: { ...input.metadata },
      application_fee_amount: null,
      created,
      customer: null,
      payment_method: this.addPaymentMethod(account, TEST_CARDS.visa, null, created).id,
      setup_future_usage: null,
    });
    return { paymentIntent, charge: this.succeed(account, paymentIntent, created) };
  }

  /** An Event as Stripe would send it to a Connect endpoint. */
  event(type: string, object: unknown, account: string | undefined, id = newId('evt')): Json {
    return {
      id,
      object: 'event',
      api_version: '2025-10-29.clover',
      type,
      account,
      created: now(),
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      data: { object: structuredClone(publicView(object)) },
    };
  }

  // ------------------------------------------------------------- HTTP side

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const params = parseStripeForm(req.method === 'GET' ? url.searchParams : new URLSearchParams(body));
    const stripeAccount = str(req.headers['stripe-account']);
    const idempotencyKey = str(req.headers['idempotency-key']);
    const method = req.method ?? 'GET';
    if (this.recordRequests) this.requests.push({ method, path: url.pathname, params, stripeAccount, idempotencyKey });
    if (stripeAccount && this.hungUp.has(stripeAccount)) {
      req.socket.destroy();
      return;
    }

    const send = (status: number, payload: unknown) => {
      const text = JSON.stringify(payload);
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': newId('req') });
      res.end(text);
    };

    let replayKey: string | undefined;
    if (method === 'POST' && idempotencyKey) {
      replayKey = `${stripeAccount ?? 'platform'}|${idempotencyKey}`;
      const previous = this.idempotent.get(replayKey);
      if (previous) {
        if (previous.body !== body) {
          return send(400, {
            error: {
              type: 'idempotency_error',
              message: `Keys for idempotent requests can only be used with the same parameters they were first used with.`,
            },
          });
        }
        res.setHeader('idempotent-replayed', 'true');
        return send(previous.status, previous.response);
      }
    }
    let status = 200;
    let response: unknown;
    try {
      response = this.route(method, url.pathname, params, stripeAccount);
    } catch (err) {
      if (!(err instanceof StandInError)) throw err;
      status = err.status;
      response = { error: { type: err.type, message: err.message, code: err.code, ...err.extra } };
    }
    if (replayKey && status < 500) this.idempotent.set(replayKey, { body, status, response });
    send(status, response);
  }

  private route(method: string, path: string, params: Json, stripeAccount: string | undefined): unknown {
    if (stripeAccount) {
      const refusal = this.refused.get(stripeAccount);
      if (refusal) throw new StandInError(refusal.status, 'invalid_request_error', refusal.message, 'account_invalid');
      if (!this.accounts.has(stripeAccount)) {
        throw new StandInError(403, 'invalid_request_error', `No such account: '${stripeAccount}'`, 'account_invalid');
      }
    }
    const seg = path.split('/').filter(Boolean); // ['v1', ...]
    if (seg[0] !== 'v1') throw new StandInError(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path})`);
    const [, a, b, c] = seg;

    if (a === 'accounts' && !stripeAccount) {
      if (method === 'POST' && !b) return this.createAccount(params);
      if (method === 'GET' && b) {
        const refusal = this.refused.get(b);
        if (refusal) throw new StandInError(refusal.status, 'invalid_request_error', refusal.message, 'account_invalid');
        const account = this.accounts.get(b);
        if (!account) throw new StandInError(404, 'invalid_request_error', `No such account: '${b}'`, 'resource_missing');
        return account;
      }
    }
    if (a === 'account_links' && method === 'POST' && !stripeAccount) {
      const account = str(params.account);
      if (!account || !this.accounts.has(account)) throw new StandInError(400, 'invalid_request_error', `No such account: '${account}'`);
      for (const field of ['refresh_url', 'return_url', 'type'] as const) {
        if (!str(params[field])) throw new StandInError(400, 'invalid_request_error', `Missing required param: ${field}.`);
      }
      const created = now();
      const url = this.options.instantOnboarding ? str(params.return_url)! : `https://connect.stripe.test/setup/s/${newId('link')}`;
      return { object: 'account_link', created, expires_at: created + 300, url };
    }

    const account = stripeAccount;
    if (!account) throw new StandInError(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}) on the platform`);
    const d = this.dataFor(account);

    if (a === 'checkout' && b === 'sessions') {
      if (method === 'POST' && !c) return publicView(this.createSession(account, params));
      if (method === 'POST' && c && path.endsWith('/expire')) return publicView(this.expireSession(d, c));
      if (method === 'GET' && c) return publicView(this.find(d, c, 'checkout.session'));
      if (method === 'GET') {
        let rows = d.sessions;
        const pi = str(params.payment_intent);
        if (pi) rows = rows.filter((s) => s.payment_intent === pi);
        return this.list(rows, params, '/v1/checkout/sessions');
      }
    }
    if (a === 'customers') {
      if (method === 'POST' && !b) return this.createCustomer(d, params);
      if (method === 'GET' && b && c === 'payment_methods') {
        this.find(d, b, 'customer');
        const type = str(params.type);
        const attached = d.paymentMethods.filter((pm) => pm.customer === b && (!type || pm.type === type));
        return this.list(attached, params, `/v1/customers/${b}/payment_methods`);
      }
      if (method === 'GET' && b) return this.find(d, b, 'customer');
    }
    if (a === 'payment_methods') {
      if (method === 'GET' && b) return publicView(this.find(d, b, 'payment_method'));
      if (method === 'POST' && b && c === 'detach') {
        const pm = this.find(d, b, 'payment_method') as StandInPaymentMethod;
        if (!pm.customer)
          throw new StandInError(
            400,
            'invalid_request_error',
            `The payment method you provided is not attached to a customer so detachment is impossible.`,
          );
        pm.customer = null;
        return publicView(pm);
      }
    }
    if (a === 'payment_intents' && method === 'POST' && !b) return this.createPaymentIntent(account, params);
    if (a === 'payment_intents' && method === 'GET') {
      if (b) return this.find(d, b, 'payment_intent');
      return this.list(d.paymentIntents, params, '/v1/payment_intents');
    }
    if (a === 'charges' && method === 'GET' && b) return this.find(d, b, 'charge');
    if (a === 'refunds' && method === 'GET') {
      if (b) return this.find(d, b, 'refund');
      let rows = d.refunds;
      const charge = str(params.charge);
      const pi = str(params.payment_intent);
      if (charge) rows = rows.filter((r) => r.charge === charge);
      if (pi) rows = rows.filter((r) => r.payment_intent === pi);
      return this.list(rows, params, '/v1/refunds');
    }
    throw new StandInError(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path})`);
  }

  private find(d: AccountData, id: string, object: string): unknown {
    const found = d.byId.get(id);
    if (!found || found.object !== object)
      throw new StandInError(404, 'invalid_request_error', `No such ${object}: '${id}'`, 'resource_missing');
    return found;
  }

  private list<T extends { id: string; created: number }>(rows: T[], params: Json, url: string): unknown {
    const created = (params.created ?? {}) as Json;
    const gte = created.gte !== undefined ? Number(created.gte) : undefined;
    const gt = created.gt !== undefined ? Number(created.gt) : undefined;
    const lte = created.lte !== undefined ? Number(created.lte) : undefined;
    const limit = Math.min(100, Math.max(1, Number(params.limit ?? 10)));
    // Newest first; among equal timestamps, the later-created object first.
    const indexed = rows.map((row, i) => ({ row, i }));
    let filtered = indexed.filter(
      ({ row }) =>
        (gte === undefined || row.created >= gte) && (gt === undefined || row.created > gt) && (lte === undefined || row.created <= lte),
    );
    filtered.sort((x, y) => y.row.created - x.row.created || y.i - x.i);
    const after = str(params.starting_after);
    if (after) {
      const at = filtered.findIndex(({ row }) => row.id === after);
      if (at < 0) throw new StandInError(400, 'invalid_request_error', `No such object: '${after}'`);
      filtered = filtered.slice(at + 1);
    }
    const page = filtered.slice(0, limit).map(({ row }) => publicView(row));
    return { object: 'list', url, has_more: filtered.length > limit, data: page };
  }

  private createCustomer(d: AccountData, params: Json): StandInCustomer {
    const customer: StandInCustomer = {
      id: newId('cus'),
      object: 'customer',
      email: str(params.email) ?? null,
      name: str(params.name) ?? null,
      metadata: (params.metadata as Record<string, string> | undefined) ?? {},
      created: now(),
    };
    d.customers.push(customer);
    d.byId.set(customer.id, customer);
    return customer;
  }

  /** A new PaymentIntent on the account, not yet paid: still 'processing', nothing received, no charge. */
  private storePaymentIntent(
    account: string,
    fields: Omit<StandInPaymentIntent, 'id' | 'object' | 'amount_received' | 'status' | 'latest_charge'>,
  ): StandInPaymentIntent {
    const d = this.dataFor(account);
    const paymentIntent: StandInPaymentIntent = {
      id: newId('pi'),
      object: 'payment_intent',
      amount_received: 0,
      status: 'processing',
      latest_charge: null,
      ...fields,
    };
    d.paymentIntents.push(paymentIntent);
    d.byId.set(paymentIntent.id, paymentIntent);
    return paymentIntent;
  }

  /**
   * POST /v1/payment_intents with confirm=true: an off-session charge of a saved
   * card. The test card decides: 4000000000000002 is declined (card_declined),
   * 4000002760003184 needs authentication (authentication_required); both answer
   * 402 with the PaymentIntent in the error, as Stripe does. Others succeed.
   */
  private createPaymentIntent(account: string, params: Json): unknown {
    const d = this.dataFor(account);
    const amount = Number(params.amount);
    const currency = str(params.currency);
    if (!Number.isInteger(amount) || amount <= 0 || !currency)
      throw new StandInError(400, 'invalid_request_error', 'Invalid amount or currency.');
    if (params.confirm !== 'true')
      throw new StandInError(400, 'invalid_request_error', 'Only confirm=true PaymentIntents are supported here.');
    const customer = str(params.customer);
    const pmId = str(params.payment_method);
    const pm = pmId ? d.byId.get(pmId) : undefined;
    if (!pm || pm.object !== 'payment_method')
      throw new StandInError(400, 'invalid_request_error', `No such PaymentMethod: '${pmId}'`, 'resource_missing');
    if (!customer || pm.customer !== customer) {
      throw new StandInError(
        400,
        'invalid_request_error',
        `The provided PaymentMethod ${pm.id} was previously used with a PaymentIntent without Customer attachment, shared with a connected account without Customer attachment, or was detached from a Customer. It may not be used again.`,
        'payment_method_unexpected_state',
      );
    }
    const paymentIntent = this.storePaymentIntent(account, {
      amount,
      currency: currency.toLowerCase(),
      metadata: (params.metadata as Record<string, string> | undefined) ?? {},
      application_fee_amount: params.application_fee_amount ? Number(params.application_fee_amount) : null,
      created: now(),
      customer,
      payment_method: pm.id,
      setup_future_usage: null,
      last_payment_error: null,
    });
    const failure =
      pm._number === TEST_CARDS.declined
        ? { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' }
        : pm._number === TEST_CARDS.authenticationRequired && params.off_session === 'true'
          ? {
              code: 'authentication_required',
              decline_code: 'authentication_required',
              message: 'Your card was declined. This transaction requires authentication.',
            }
          : null;
    if (failure) {
      paymentIntent.status = 'requires_payment_method';
      paymentIntent.last_payment_error = { type: 'card_error', ...failure, payment_method: publicView(pm) };
      throw new StandInError(402, 'card_error', failure.message, failure.code, {
        decline_code: failure.decline_code,
        payment_intent: structuredClone(publicView(paymentIntent)),
        payment_method: publicView(pm),
      });
    }
    this.succeed(account, paymentIntent, paymentIntent.created);
    return publicView(paymentIntent);
  }

  private createAccount(params: Json): StandInAccount {
    const onboarded = this.options.instantOnboarding ?? false;
    const account = this.addAccount({ charges_enabled: onboarded, details_submitted: onboarded });
    account.controller = (params.controller as Json | undefined) ?? {};
    account.metadata = (params.metadata as Record<string, string> | undefined) ?? {};
    return account;
  }

  /** POST /v1/checkout/sessions/:id/expire: only an open session can be expired; its URL stops working. */
  private expireSession(d: AccountData, id: string): StandInSession {
    const session = this.find(d, id, 'checkout.session') as StandInSession;
    if (session.status !== 'open') {
      throw new StandInError(
        400,
        'invalid_request_error',
        `Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${session.status}".`,
      );
    }
    session.status = 'expired';
    session.url = null;
    return session;
  }

  private createSession(account: string, params: Json, created = now()): StandInSession {
    if (params.mode !== 'payment') throw new StandInError(400, 'invalid_request_error', 'Only payment mode is supported here.');
    const successUrl = str(params.success_url);
    if (!successUrl) throw new StandInError(400, 'invalid_request_error', 'Missing required param: success_url.');
    let amount = Number(params._amount ?? 0);
    let currency = str(params._currency) ?? '';
    const items = (params.line_items ?? {}) as Record<string, Json>;
    for (const item of Object.values(items)) {
      const priceData = (item.price_data ?? {}) as Json;
      const unit = Number(priceData.unit_amount);
      const quantity = Number(item.quantity ?? 1);
      if (!Number.isInteger(unit) || unit <= 0) throw new StandInError(400, 'invalid_request_error', 'Invalid unit_amount.');
      currency = str(priceData.currency) ?? currency;
      amount += unit * quantity;
    }
    if (amount <= 0 || !currency) throw new StandInError(400, 'invalid_request_error', 'A session needs at least one priced line item.');
    const piData = (params.payment_intent_data ?? {}) as Json;
    if (piData.application_fee_amount !== undefined && Number(piData.application_fee_amount) > amount) {
      throw new StandInError(400, 'invalid_request_error', 'application_fee_amount cannot exceed the amount.');
    }
    const d = this.dataFor(account);
    const customer = str(params.customer);
    if (customer) {
      if (d.byId.get(customer)?.object !== 'customer')
        throw new StandInError(400, 'invalid_request_error', `No such customer: '${customer}'`, 'resource_missing');
      if (params.customer_email !== undefined)
        throw new StandInError(400, 'invalid_request_error', 'You may only specify one of these parameters: customer, customer_email.');
    }
    const id = newId('cs_test');
    const session: StandInSession = {
      id,
      object: 'checkout.session',
      mode: 'payment',
      status: 'open',
      payment_status: 'unpaid',
      amount_total: amount,
      currency: currency.toLowerCase(),
      metadata: (params.metadata as Record<string, string> | undefined) ?? {},
      client_reference_id: str(params.client_reference_id) ?? null,
      payment_intent: null,
      customer: str(params.customer) ?? null,
      success_url: successUrl,
      cancel_url: str(params.cancel_url) ?? null,
      url: this.options.checkoutUrl?.(id) ?? `https://checkout.stripe.test/c/pay/${id}`,
      created,
      expires_at: params.expires_at ? Number(params.expires_at) : created + 86_400,
      _payment_intent_data: piData,
      _line_items: items,
    };
    d.sessions.push(session);
    d.byId.set(id, session);
    return session;
  }
}

/** Drops the stand-in's private fields (leading underscore) from what it sends. */
function publicView(object: unknown): unknown {
  if (!object || typeof object !== 'object') return object;
  return Object.fromEntries(Object.entries(object as Json).filter(([k]) => !k.startsWith('_')));
}
