// Bearer tokens handed out in links (portal links, invitations, password resets):
// 32 random bytes, base64url. Only their SHA-256 is stored, so a database leak reveals no link.
import crypto from 'node:crypto';

export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function isWellFormedToken(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}

export function sha256Hex(text: string): string {
  // One call, no Hash object: a portal view hashes its token on every request (issue 16).
  return crypto.hash('sha256', text, 'hex');
}

export function newToken(): string {
  return crypto.randomBytes(32).toString('base64url');
}

export function newOneTimeToken(): { token: string; sha256: string } {
  const token = newToken();
  return { token, sha256: sha256Hex(token) };
}
