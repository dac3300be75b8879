import { z } from 'zod';
import { isValidTimeZone } from '../lib/dates.js';

const emailField = z
  .string({ error: 'Enter your email address' })
  .trim()
  .toLowerCase()
  .min(1, 'Enter your email address')
  .max(254, 'That email address is too long')
  .pipe(z.email('Enter a valid email address, like name@example.com'));

/** Step one of sign-up: who and what; the password is chosen from the emailed link (finishSignUpSchema). */
export const signUpSchema = z.object({
  orgName: z
    .string({ error: 'Enter your business name' })
    .trim()
    .min(1, 'Enter your business name')
    .max(200, 'Keep the business name under 200 characters'),
  name: z.string({ error: 'Enter your name' }).trim().min(1, 'Enter your name').max(200, 'Keep your name under 200 characters'),
  email: emailField,
});
export type SignUpInput = z.infer<typeof signUpSchema>;

const choosePassword = (message: string) => z.string({ error: message }).min(1, message).max(200, 'Keep the password under 200 characters');

export const finishSignUpSchema = z.object({
  password: choosePassword('Choose a password'),
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
  password: z.string({ error: 'Enter your password' }).min(1, 'Enter your password').max(200),
  next: z.string().optional(),
});
export type LogInInput = z.infer<typeof logInSchema>;

/** Only local paths are followed after login (no open redirects). */
export function safeNextPath(next: string | undefined): string {
  return next && /^\/(?!\/)[\w\-./?=&%]*$/.test(next) ? next : '/';
}

export const acceptInvitationSchema = z.object({
  name: z.string({ error: 'Enter your name' }).trim().min(1, 'Enter your name').max(200, 'Keep your name under 200 characters'),
  password: choosePassword('Choose a password'),
});
export type AcceptInvitationInput = z.infer<typeof acceptInvitationSchema>;

export const forgotPasswordSchema = z.object({ email: emailField });

export const resetPasswordSchema = z.object({ password: choosePassword('Choose a new password') });

export const inviteSchema = z.object({
  email: z
    .string({ error: 'Enter an email address' })
    .trim()
    .toLowerCase()
    .min(1, 'Enter an email address')
    .max(254, 'That email address is too long')
    .pipe(z.email('Enter a valid email address, like name@example.com')),
});

export const roleFormSchema = z.object({ role: z.enum(['owner', 'staff'], 'Choose owner or staff.') });
