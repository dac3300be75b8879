// Password hashing (argon2id via @node-rs/argon2) and strength checks (zxcvbn-ts).
import { hash, verify } from '@node-rs/argon2';
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as en from '@zxcvbn-ts/language-en';

const MIN_PASSWORD_LENGTH = 10;

const strength = new ZxcvbnFactory({
  dictionary: { ...common.dictionary, ...en.dictionary },
  graphs: common.adjacencyGraphs,
  translations: en.translations,
});

/** A reason the password is too weak, or null when it is acceptable. */
export function passwordWeakness(password: string, userInputs: string[] = []): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `Use at least ${MIN_PASSWORD_LENGTH} characters.`;
  const result = strength.check(password, userInputs.filter(Boolean));
  if (result.score >= 3) return null;
  return result.feedback.warning ?? 'This password is easy to guess: add more words or characters.';
}

export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

// Verified when the email is unknown, so both cases take the same time.
let dummyHash: Promise<string> | undefined;

export async function verifyPassword(storedHash: string | null, password: string): Promise<boolean> {
  if (!storedHash) {
    dummyHash ??= hash('no-such-user-placeholder-password');
    await verify(await dummyHash, password).catch(() => false);
    return false;
  }
  return verify(storedHash, password).catch(() => false);
}
