// One-time tokens for emailed links (invitations, password resets): 32 random
// bytes, base64url. Only the SHA-256 is stored, so a database leak reveals no link.
import crypto from 'node:crypto';

export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function sha256Hex(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}

export function newOneTimeToken(): { token: string; sha256: string } {
  const token = crypto.randomBytes(32).toString('base64url');
  return { token, sha256: sha256Hex(token) };
}
