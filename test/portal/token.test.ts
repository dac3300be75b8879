// Portal token crypto, checked against an independent implementation of the stored
// format: a ciphertext written by today's code must stay readable after any change,
// and a portal form token must be an HMAC only this APP_SECRET can make.
import crypto from 'node:crypto';
import { expect } from 'chai';
import { config } from '../../src/config.js';
import {
  decryptPortalToken,
  encryptPortalToken,
  isValidPortalFormToken,
  isValidRecoveryFormToken,
  portalFormToken,
  recoveryFormToken,
} from '../../src/portal-links/token.js';

function key(info: string, secret = config.appSecret): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', secret, 'porchlight-portal', info, 32));
}

/**
 * Runs fn under an APP_SECRET no earlier code used, so the keys are derived now, not
 * taken from a cache an earlier test filled (or, under mutation testing, an earlier
 * mutant run in the same process: a key cached there hid a wrong derivation label).
 */
function withFreshSecret(fn: () => void): void {
  const original = config.appSecret;
  config.appSecret = crypto.randomBytes(32).toString('hex');
  try {
    fn();
  } finally {
    config.appSecret = original;
  }
}

/** The stored format, written here from its description: v1.<iv>.<ciphertext>.<tag>, AES-256-GCM with the AAD. */
function encryptIndependently(token: string, secret = config.appSecret): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key('portal-token-encryption', secret), iv);
  cipher.setAAD(Buffer.from('porchlight:portal-link-token'));
  const body = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

function decryptIndependently(ciphertext: string): string {
  const [, iv, body, tag] = ciphertext.split('.');
  const decipher = crypto.createDecipheriv('aes-256-gcm', key('portal-token-encryption'), Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from('porchlight:portal-link-token'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}

describe('portal token crypto (src/portal-links/token.ts)', () => {
  const token = 'Qk9PTS1wb3J0YWwtdG9rZW4tZm9yLXRlc3RzLW9ubHkx';

  it('writes v1.<iv>.<ciphertext>.<tag> with a fresh 12-byte iv and a 16-byte tag', () => {
    const a = encryptPortalToken(token);
    const b = encryptPortalToken(token);
    expect(a).not.to.equal(b);
    const [version, iv, body, tag, extra] = a.split('.');
    expect(version).to.equal('v1');
    expect(Buffer.from(iv, 'base64url')).to.have.length(12);
    expect(Buffer.from(body, 'base64url')).to.have.length(Buffer.byteLength(token));
    expect(Buffer.from(tag, 'base64url')).to.have.length(16);
    expect(extra).to.equal(undefined);
    expect(a).not.to.contain(token);
  });

  it('reads what the stored format says, and writes what it says', () => {
    expect(decryptPortalToken(encryptIndependently(token))).to.equal(token);
    expect(decryptIndependently(encryptPortalToken(token))).to.equal(token);
    expect(decryptPortalToken(encryptPortalToken('ünïcode ✓'))).to.equal('ünïcode ✓');
  });

  it('refuses another version, a missing part, a changed ciphertext or tag', () => {
    const good = encryptPortalToken(token);
    const [, iv, body, tag] = good.split('.');
    for (const bad of [
      `v2.${iv}.${body}.${tag}`,
      `.${iv}.${body}.${tag}`,
      `v1..${body}.${tag}`,
      `v1.${iv}..${tag}`,
      `v1.${iv}.${body}.`,
      `v1.${iv}.${body}`,
    ]) {
      expect(() => decryptPortalToken(bad), bad).to.throw('unreadable portal token ciphertext');
    }
    const flipped = Buffer.from(body, 'base64url');
    flipped[0] ^= 1;
    expect(() => decryptPortalToken(`v1.${iv}.${flipped.toString('base64url')}.${tag}`)).to.throw();
    const badTag = Buffer.from(tag, 'base64url');
    badTag[0] ^= 1;
    expect(() => decryptPortalToken(`v1.${iv}.${body}.${badTag.toString('base64url')}`)).to.throw();
  });

  it('a ciphertext made under another APP_SECRET cannot be read, and a new secret takes effect at once', () => {
    expect(() => decryptPortalToken(encryptIndependently(token, 'another-secret-another-secret-another-1234'))).to.throw();
    const original = config.appSecret;
    const before = encryptPortalToken(token);
    const formBefore = portalFormToken('link-1');
    try {
      config.appSecret = 'rotated-secret-rotated-secret-rotated-secret';
      expect(() => decryptPortalToken(before)).to.throw();
      expect(decryptPortalToken(encryptIndependently(token, config.appSecret))).to.equal(token);
      expect(portalFormToken('link-1')).not.to.equal(formBefore);
    } finally {
      config.appSecret = original;
    }
    expect(decryptPortalToken(before)).to.equal(token);
    expect(portalFormToken('link-1')).to.equal(formBefore);
  });

  it('a portal form token is the HMAC of the link id under its own derived key', () => {
    withFreshSecret(() => {
      const expected = crypto.createHmac('sha256', key('portal-form-csrf')).update('portal-form:link-1').digest('base64url');
      expect(portalFormToken('link-1')).to.equal(expected);
      expect(portalFormToken('link-2')).not.to.equal(expected);
    });
  });

  it('accepts only the token of the same link, as a string of the right length', () => {
    const good = portalFormToken('link-1');
    expect(isValidPortalFormToken('link-1', good)).to.equal(true);
    expect(isValidPortalFormToken('link-2', good)).to.equal(false);
    expect(isValidPortalFormToken('link-1', good.slice(1))).to.equal(false);
    expect(isValidPortalFormToken('link-1', `${good}A`)).to.equal(false);
    expect(isValidPortalFormToken('link-1', `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`)).to.equal(false);
    expect(isValidPortalFormToken('link-1', '')).to.equal(false);
    expect(isValidPortalFormToken('link-1', undefined)).to.equal(false);
    expect(isValidPortalFormToken('link-1', [good])).to.equal(false);
    expect(isValidPortalFormToken('link-1', { toString: () => good, length: good.length })).to.equal(false);
  });

  it('derives each key once per APP_SECRET, not on every use', () => {
    const hkdf = crypto.hkdfSync;
    const original = config.appSecret;
    let derived = 0;
    crypto.hkdfSync = (...args: Parameters<typeof hkdf>) => {
      derived += 1;
      return hkdf(...args);
    };
    try {
      config.appSecret = 'counted-secret-counted-secret-counted-secret';
      for (let i = 0; i < 3; i++) {
        decryptPortalToken(encryptPortalToken(token));
        portalFormToken('link-1');
        recoveryFormToken('client-1');
      }
      // Three keys (encryption, portal forms, recovery forms), each derived once for this secret.
      expect(derived).to.equal(3);
    } finally {
      crypto.hkdfSync = hkdf;
      config.appSecret = original;
    }
  });
});

describe("the not-found page's recovery form token", () => {
  const HOUR = 3_600_000;
  // 2026-11-30 10:20 UTC: hour 498,898 since the epoch.
  const now = Date.UTC(2026, 10, 30, 10, 20);
  const bucket = Math.floor(now / HOUR);

  it('is "<hour since the epoch>.<HMAC of the hour and the client>" under its own derived key', () => {
    withFreshSecret(() => {
      const mac = crypto.createHmac('sha256', key('portal-recovery-csrf')).update(`portal-recovery:${bucket}:client-1`).digest('base64url');
      expect(bucket).to.equal(498_898);
      expect(recoveryFormToken('client-1', now)).to.equal(`${bucket}.${mac}`);
      // The same token all hour, another the next hour and for another client.
      expect(recoveryFormToken('client-1', now + 30 * 60_000)).to.equal(`${bucket}.${mac}`);
      expect(recoveryFormToken('client-1', now + HOUR)).not.to.equal(`${bucket}.${mac}`);
      expect(recoveryFormToken('client-2', now)).not.to.equal(`${bucket}.${mac}`);
    });
  });

  it('is accepted from the same client during its hour and the next, and refused after, before, or from another client', () => {
    const form = recoveryFormToken('client-1', now);
    expect(isValidRecoveryFormToken('client-1', form, now)).to.equal(true);
    expect(isValidRecoveryFormToken('client-1', form, now + HOUR)).to.equal(true);
    expect(isValidRecoveryFormToken('client-1', form, now + 2 * HOUR)).to.equal(false);
    expect(isValidRecoveryFormToken('client-1', form, now - HOUR)).to.equal(false);
    expect(isValidRecoveryFormToken('client-2', form, now)).to.equal(false);
  });

  it('refuses anything that is not a well-formed token: no string, no hour, no MAC, a changed or cut MAC', () => {
    const form = recoveryFormToken('client-1', now);
    const mac = form.split('.')[1];
    const other = mac.endsWith('A') ? 'B' : 'A';
    for (const bad of [
      undefined,
      42,
      [form],
      '',
      `${bucket}`,
      `${bucket}.`,
      `.${mac}`,
      `x${bucket}.${mac}`,
      `0${bucket}0.${mac}`,
      `${bucket}.${mac.slice(1)}`,
      `${bucket}.${mac}A`,
      `${bucket}.${mac.slice(0, -1)}${other}`,
    ]) {
      expect(isValidRecoveryFormToken('client-1', bad, now), String(bad)).to.equal(false);
    }
    // An hour written with more digits than any real one (a number, but not an hour) is refused too.
    const long = '12345678901';
    const longMac = crypto.createHmac('sha256', key('portal-recovery-csrf')).update(`portal-recovery:${long}:client-1`).digest('base64url');
    expect(isValidRecoveryFormToken('client-1', `${long}.${longMac}`, Number(long) * HOUR)).to.equal(false);
  });
});
