// Twilio status callbacks at /webhooks/twilio/status. Mounted before any body
// parser (app.ts): this router parses its own form body. The signature covers
// the public URL and every posted parameter, checked with the SDK.
//   missing signature → 400, bad signature → 403 (nothing changed),
//   unknown message → 200 (nothing to do), our failure → 500 (Twilio may retry).
import express, { Router } from 'express';
import twilio from 'twilio';
import { config } from '../config.js';
import { recordAudit } from '../db/audit.js';
import { deliveryByProviderId } from '../db/lookups.js';
import { hasKey, languageOf, t, type Language } from '../i18n/index.js';
import { withOrg } from '../db/tenancy.js';
import { logger } from '../logger.js';
import { twilioStatusSchema } from './schema.js';

export const webhookRouter = Router();

const STATUS_CALLBACK_PATH = '/webhooks/twilio/status';

type Transition = { status: 'delivered' | 'failed' | 'undeliverable' | 'sent'; from: string[] };

/** Twilio status → our status, and the states it may move from (never backwards). */
const TRANSITIONS: Record<string, Transition | undefined> = {
  sent: { status: 'sent', from: ['sending', 'queued', 'pending'] },
  delivered: { status: 'delivered', from: ['sending', 'sent', 'queued', 'pending'] },
  read: { status: 'delivered', from: ['sending', 'sent', 'queued', 'pending'] },
  undelivered: { status: 'undeliverable', from: ['sending', 'sent', 'queued', 'pending'] },
  failed: { status: 'failed', from: ['sending', 'sent', 'queued', 'pending'] },
};

/** Why the carrier didn't deliver, in the org's `lang`; Twilio's own words when the code is not one we know. */
function carrierReason(lang: Language, code: string | undefined, message: string | undefined, status: string): string {
  const known = code && hasKey(lang, `messages:carrier.${code}`) ? t(lang, `messages:carrier.${code}`) : null;
  const base = known ?? (message || t(lang, 'messages:carrier.reported', { status }));
  return code ? t(lang, 'messages:carrier.withCode', { reason: base, code }) : base;
}

webhookRouter.post('/status', express.urlencoded({ extended: false, limit: '20kb', parameterLimit: 200 }), async (req, res) => {
  // i18n-exempt: a header name and an actor label
  const signature = req.header('x-twilio-signature');
  if (!signature) return res.status(400).json({ error: 'missing_signature' });
  const token = config.twilio.authToken;
  if (!token) {
    logger.error('Twilio status callback received but TWILIO_AUTH_TOKEN is not set');
    return res.status(403).json({ error: 'not_configured' });
  }
  const params = (req.body ?? {}) as Record<string, string>;
  const url = `${config.publicUrl}${STATUS_CALLBACK_PATH}`;
  if (!twilio.validateRequest(token, signature, url, params)) {
    return res.status(403).json({ error: 'invalid_signature' });
  }
  const parsed = twilioStatusSchema.safeParse(params);
  if (!parsed.success) return res.status(400).json({ error: 'invalid_payload', message: parsed.error.issues[0].message });
  const { MessageSid, MessageStatus, ErrorCode, ErrorMessage } = parsed.data;
  const transition = TRANSITIONS[MessageStatus];
  if (!transition) return res.status(200).json({ ok: true, ignored: MessageStatus });
  try {
    const found = await deliveryByProviderId('sms', MessageSid);
    if (!found) return res.status(200).json({ ok: true, unknown: true });
    await withOrg(found.orgId, async (db) => {
      const problem = transition.status === 'failed' || transition.status === 'undeliverable';
      const org = problem ? await db('organizations').first<{ locale: string } | undefined>('locale') : undefined;
      const updated = await db('message_deliveries')
        .update({
          status: transition.status,
          updated_at: db.fn.now(),
          ...(transition.status === 'delivered' ? { delivered_at: db.fn.now() } : {}),
          ...(problem ? { last_error: carrierReason(languageOf(org?.locale), ErrorCode, ErrorMessage, MessageStatus) } : {}),
        })
        .where({ id: found.deliveryId })
        .whereIn('status', transition.from);
      if (updated && transition.status !== 'sent') {
        await recordAudit(db, {
          // i18n-exempt: a header name and an actor label
          actor: { type: 'twilio', label: 'status callback' },
          action: `message.${transition.status}`,
          subjectType: 'message_delivery',
          subjectId: found.deliveryId,
          data: { twilioStatus: MessageStatus, ...(ErrorCode ? { errorCode: ErrorCode } : {}) },
        });
      }
    });
    return res.status(200).json({ ok: true });
  } catch (err) {
    logger.error({ err }, 'Twilio status callback failed');
    return res.status(500).json({ error: 'internal' });
  }
});
