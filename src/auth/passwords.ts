// Password hashing (argon2id via @node-rs/argon2) and strength checks (zxcvbn-ts).
import { hash, verify } from '@node-rs/argon2';
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as en from '@zxcvbn-ts/language-en';
import { msg } from '../i18n/index.js';

const MIN_PASSWORD_LENGTH = 10;

// The warnings come back as catalogue keys (auth:password.warning.<id>), read in whoever's language sees the form.
const warningKeys = Object.fromEntries(Object.keys(en.translations.warnings).map((id) => [id, `auth:password.warning.${id}`]));

const strength = new ZxcvbnFactory({
  dictionary: { ...common.dictionary, ...en.dictionary },
  graphs: common.adjacencyGraphs,
  translations: { ...en.translations, warnings: { ...en.translations.warnings, ...warningKeys } },
});

/** A reason the password is too weak (a message: see src/i18n), or null when it is acceptable. */
export function passwordWeakness(password: string, userInputs: string[] = []): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return msg('auth:password.tooShort', { min: MIN_PASSWORD_LENGTH });
  const result = strength.check(password, userInputs.filter(Boolean));
  if (result.score >= 3) return null;
  return result.feedback.warning ?? 'auth:password.easyToGuess';
}

export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

// Verified when the email is unknown, so both cases take the same time.
let dummyHash: Promise<string> | undefined;

export async function verifyPassword(storedHash: string | null, password: string): Promise<boolean> {
  if (!storedHash) {
    dummyHash ??= hash('no-such-user-placeholder-password'); // i18n-exempt: a hash's input, never shown
    await verify(await dummyHash, password).catch(() => false);
    return false;
  }
  return verify(storedHash, password).catch(() => false);
}
