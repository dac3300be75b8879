// Bearer tokens in links: their shape, and that only a SHA-256 is kept.
import crypto from 'node:crypto';
import { expect } from 'chai';
import { isWellFormedToken, newOneTimeToken, newToken, sha256Hex, TOKEN_PATTERN } from '../../src/lib/tokens.js';

describe('link tokens (src/lib/tokens.ts)', () => {
  it('makes 32 random bytes as 43 base64url characters, different every time', () => {
    const tokens = new Set(Array.from({ length: 50 }, () => newToken()));
    expect(tokens.size).to.equal(50);
    for (const t of tokens) {
      expect(t).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(t, 'base64url')).to.have.length(32);
    }
  });

  it('accepts exactly 43 base64url characters and nothing around them', () => {
    const good = 'A'.repeat(21) + '-_' + 'z9'.repeat(10);
    expect(good).to.have.length(43);
    expect(isWellFormedToken(good)).to.equal(true);
    expect(isWellFormedToken(good.slice(1))).to.equal(false);
    expect(isWellFormedToken(`${good}A`)).to.equal(false);
    expect(isWellFormedToken(`x${good}`)).to.equal(false);
    expect(isWellFormedToken(`${good.slice(1)}=`)).to.equal(false);
    expect(isWellFormedToken(`${good.slice(1)}+`)).to.equal(false);
    expect(isWellFormedToken(`${good.slice(1)}/`)).to.equal(false);
    expect(isWellFormedToken(`${good.slice(1)}.`)).to.equal(false);
    expect(isWellFormedToken(`${good}\n`)).to.equal(false);
    expect(isWellFormedToken('')).to.equal(false);
    expect(TOKEN_PATTERN.source).to.equal('^[A-Za-z0-9_-]{43}$');
  });

  it('hashes with SHA-256 of the UTF-8 text, in lower-case hex', () => {
    expect(sha256Hex('abc')).to.equal('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('é')).to.equal(
      crypto
        .createHash('sha256')
        .update(Buffer.from([0xc3, 0xa9]))
        .digest('hex'),
    );
  });

  it('a one-time token comes with the hash that is stored for it', () => {
    const { token, sha256 } = newOneTimeToken();
    expect(isWellFormedToken(token)).to.equal(true);
    expect(sha256).to.equal(crypto.createHash('sha256').update(token).digest('hex'));
    expect(newOneTimeToken().token).not.to.equal(token);
  });
});
