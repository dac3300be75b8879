// A local stand-in for Twilio's Messages API (node:http). The real twilio
// client is pointed at it through config.twilio.apiUrl.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface StandinMessage {
  sid: string;
  accountSid: string;
  to: string;
  from?: string;
  messagingServiceSid?: string;
  body: string;
  statusCallback?: string;
}

export type ScriptedReply =
  | { kind: 'ok' }
  | { kind: 'error'; status: number; code: number; message: string }
  | { kind: 'hang'; ms: number } // answers success after a delay
  | { kind: 'reset' }; // drops the connection (network error)

export const TWILIO_ERRORS = {
  invalidNumber: { kind: 'error', status: 400, code: 21211, message: "The 'To' number is not a valid phone number." },
  optedOut: { kind: 'error', status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' },
  tooManyRequests: { kind: 'error', status: 429, code: 20429, message: 'Too Many Requests' },
  serverError: { kind: 'error', status: 500, code: 20500, message: 'Internal Server Error' },
} as const satisfies Record<string, ScriptedReply>;

export interface TwilioStandin {
  url: string;
  accountSid: string;
  authToken: string;
  /** Messages accepted (201), in order. */
  sent: StandinMessage[];
  /** Every request that reached the Messages endpoint, accepted or not. */
  requests: number;
  /** Replies for the next requests to this number, in order; afterwards: success. */
  script(to: string, ...replies: ScriptedReply[]): void;
  /** A reply for every request to this number. */
  always(to: string, reply: ScriptedReply): void;
  /** Delay every accepted message by ms (graceful shutdown tests, benchmarks). */
  delayMs: number;
  reset(): void;
  close(): Promise<void>;
}

export async function startTwilioStandin(): Promise<TwilioStandin> {
  const accountSid = `AC${crypto.randomBytes(16).toString('hex')}`;
  const authToken = crypto.randomBytes(16).toString('hex');
  const scripted = new Map<string, ScriptedReply[]>();
  const permanent = new Map<string, ScriptedReply>();
  const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const match = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Messages\.json$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !match) return json(404, { code: 20404, message: 'Not found', status: 404 });
      if (req.headers.authorization !== expectedAuth || match[1] !== accountSid) {
        return json(401, { code: 20003, message: 'Authenticate', status: 401 });
      }
      standin.requests += 1;
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const to = form.get('To') ?? '';
      const queue = scripted.get(to);
      const reply: ScriptedReply = queue?.shift() ?? permanent.get(to) ?? { kind: 'ok' };
      if (reply.kind === 'reset') return req.socket.destroy();
      if (reply.kind === 'error')
        return json(reply.status, {
          code: reply.code,
          message: reply.message,
          status: reply.status,
          more_info: `https://www.twilio.com/docs/errors/${reply.code}`,
        });
      const accept = () => {
        const message: StandinMessage = {
          sid: `SM${crypto.randomBytes(16).toString('hex')}`,
          accountSid,
          to,
          from: form.get('From') ?? undefined,
          messagingServiceSid: form.get('MessagingServiceSid') ?? undefined,
          body: form.get('Body') ?? '',
          statusCallback: form.get('StatusCallback') ?? undefined,
        };
        standin.sent.push(message);
        json(201, {
          sid: message.sid,
          account_sid: accountSid,
          to,
          from: message.from ?? null,
          body: message.body,
          status: 'queued',
          messaging_service_sid: message.messagingServiceSid ?? null,
          num_segments: '1',
          date_created: new Date().toUTCString(),
          uri: `/2010-04-01/Accounts/${accountSid}/Messages/${message.sid}.json`,
        });
      };
      const wait = reply.kind === 'hang' ? reply.ms : standin.delayMs;
      if (wait > 0) setTimeout(accept, wait);
      else accept();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const standin: TwilioStandin = {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    sent: [],
    requests: 0,
    delayMs: 0,
    script(to, ...replies) {
      scripted.set(to, [...(scripted.get(to) ?? []), ...replies]);
    },
    always(to, reply) {
      permanent.set(to, reply);
    },
    reset() {
      standin.sent.length = 0;
      standin.requests = 0;
      standin.delayMs = 0;
      scripted.clear();
      permanent.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return standin;
}
