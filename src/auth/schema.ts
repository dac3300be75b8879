import { z } from 'zod';
import { isValidTimeZone } from '../lib/dates.js';

const emailField = z
  .string({ error: 'auth:field.enterEmail' })
  .trim()
  .toLowerCase()
  .min(1, 'auth:field.enterEmail')
  .max(254, 'auth:field.emailTooLong')
  .pipe(z.email('auth:field.emailInvalid'));

/** Step one of sign-up: who and what; the password is chosen from the emailed link (finishSignUpSchema). */
export const signUpSchema = z.object({
  orgName: z
    .string({ error: 'auth:field.enterBusinessName' })
    .trim()
    .min(1, 'auth:field.enterBusinessName')
    .max(200, 'auth:field.businessNameTooLong'),
  name: z.string({ error: 'auth:field.enterName' }).trim().min(1, 'auth:field.enterName').max(200, 'auth:field.nameTooLong'),
  email: emailField,
});
export type SignUpInput = z.infer<typeof signUpSchema>;

const choosePassword = (message: string) => z.string({ error: message }).min(1, message).max(200, 'auth:field.passwordTooLong');

export const finishSignUpSchema = z.object({
  password: choosePassword('auth:field.choosePassword'),
  // Filled in by the browser (public/app.js); a missing or unknown zone leaves the default.
  timeZone: z
    .string()
    .trim()
    .max(100)
    .optional()
    .transform((v) => (v && isValidTimeZone(v) ? v : undefined)),
});

export const logInSchema = z.object({
  email: emailField,
  password: z.string({ error: 'auth:field.enterPassword' }).min(1, 'auth:field.enterPassword').max(200),
  next: z.string().optional(),
});
export type LogInInput = z.infer<typeof logInSchema>;

/** Only local paths are followed after login (no open redirects). */
export function safeNextPath(next: string | undefined): string {
  return next && /^\/(?!\/)[\w\-./?=&%]*$/.test(next) ? next : '/';
}

export const acceptInvitationSchema = z.object({
  name: z.string({ error: 'auth:field.enterName' }).trim().min(1, 'auth:field.enterName').max(200, 'auth:field.nameTooLong'),
  password: choosePassword('auth:field.choosePassword'),
});
export type AcceptInvitationInput = z.infer<typeof acceptInvitationSchema>;

export const forgotPasswordSchema = z.object({ email: emailField });

export const resetPasswordSchema = z.object({ password: choosePassword('auth:field.chooseNewPassword') });

export const inviteSchema = z.object({
  email: z
    .string({ error: 'auth:field.enterAnEmail' })
    .trim()
    .toLowerCase()
    .min(1, 'auth:field.enterAnEmail')
    .max(254, 'auth:field.emailTooLong')
    .pipe(z.email('auth:field.emailInvalid')),
});

export const roleFormSchema = z.object({ role: z.enum(['owner', 'staff'], 'auth:field.ownerOrStaff') });
