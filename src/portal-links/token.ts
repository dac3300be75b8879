// Portal tokens: 32 random bytes (base64url) handed to the customer. The database
// keeps only their SHA-256 (lookup) and an AES-256-GCM ciphertext (so staff can copy
// the link again); the key is derived from APP_SECRET and never stored.
import crypto from 'node:crypto';
import { config } from '../config.js';
import { isWellFormedToken, newToken, sha256Hex } from '../lib/tokens.js';

export { isWellFormedToken };

const CIPHER_VERSION = 'v1';
const AAD = Buffer.from('porchlight:portal-link-token'); // i18n-exempt: key-derivation labels, not words

let cachedKey: { secret: string; key: Buffer } | undefined;
let cachedCsrfKey: { secret: string; key: Buffer } | undefined;
let cachedRecoveryKey: { secret: string; key: Buffer } | undefined;

function derive(info: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', config.appSecret, 'porchlight-portal', info, 32)); // i18n-exempt: key-derivation labels, not words
}

function encryptionKey(): Buffer {
  if (cachedKey?.secret !== config.appSecret) cachedKey = { secret: config.appSecret, key: derive('portal-token-encryption') }; // i18n-exempt: key-derivation labels, not words
  return cachedKey.key;
}

function csrfKey(): Buffer {
  if (cachedCsrfKey?.secret !== config.appSecret) cachedCsrfKey = { secret: config.appSecret, key: derive('portal-form-csrf') }; // i18n-exempt: key-derivation labels, not words
  return cachedCsrfKey.key;
}

export const newPortalToken = newToken;

export const hashPortalToken = sha256Hex;

/** "v1.<iv>.<ciphertext>.<tag>", all base64url. */
export function encryptPortalToken(token: string): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', encryptionKey(), iv);
  cipher.setAAD(AAD);
  const body = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
  return [CIPHER_VERSION, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

export function decryptPortalToken(ciphertext: string): string {
  const [version, iv, body, tag] = ciphertext.split('.');
  if (version !== CIPHER_VERSION || !iv || !body || !tag) throw new Error('unreadable portal token ciphertext');
  const decipher = crypto.createDecipheriv('aes-256-gcm', encryptionKey(), Buffer.from(iv, 'base64url'));
  decipher.setAAD(AAD);
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}

/**
 * The portal has no session, so its forms carry an HMAC of the link id instead:
 * only a page served for that link can hold it.
 */
export function portalFormToken(linkId: string): string {
  return crypto.createHmac('sha256', csrfKey()).update(`portal-form:${linkId}`).digest('base64url'); // i18n-exempt: key-derivation labels, not words
}

export function isValidPortalFormToken(linkId: string, candidate: unknown): boolean {
  if (typeof candidate !== 'string') return false;
  const expected = Buffer.from(portalFormToken(linkId));
  const given = Buffer.from(candidate);
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

/**
 * The "Send me my link again" form's token is made per hour: the same client gets the
 * same not-found page within the hour (so the page tells nothing by changing), and a
 * form stays usable for one to two hours after it was served.
 */
const RECOVERY_BUCKET_MS = 3600_000;

function recoveryKey(): Buffer {
  if (cachedRecoveryKey?.secret !== config.appSecret) cachedRecoveryKey = { secret: config.appSecret, key: derive('portal-recovery-csrf') }; // i18n-exempt: key-derivation labels, not words
  return cachedRecoveryKey.key;
}

function recoveryMac(bucket: number, clientKey: string): string {
  return crypto.createHmac('sha256', recoveryKey()).update(`portal-recovery:${bucket}:${clientKey}`).digest('base64url'); // i18n-exempt: key-derivation labels, not words
}

/**
 * The not-found page has no link and no session: its recovery form carries the hour
 * it was served and an HMAC binding that hour to the client (its address key), so a
 * form posted from another site's visitor, another client or hours later is refused.
 */
export function recoveryFormToken(clientKey: string, now = Date.now()): string {
  const bucket = Math.floor(now / RECOVERY_BUCKET_MS);
  return `${bucket}.${recoveryMac(bucket, clientKey)}`;
}

export function isValidRecoveryFormToken(clientKey: string, candidate: unknown, now = Date.now()): boolean {
  if (typeof candidate !== 'string') return false;
  const [issued, mac] = candidate.split('.');
  const bucket = Number(issued);
  const current = Math.floor(now / RECOVERY_BUCKET_MS);
  if (!/^\d{1,10}$/.test(issued ?? '') || !mac || bucket > current || current - bucket > 1) return false;
  const expected = Buffer.from(recoveryMac(bucket, clientKey));
  const given = Buffer.from(mac);
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}
