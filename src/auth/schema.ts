import { z } from 'zod';

const emailField = z
  .string({ error: 'Enter your email address' })
  .trim()
  .toLowerCase()
  .min(1, 'Enter your email address')
  .max(254, 'That email address is too long')
  .pipe(z.email('Enter a valid email address, like name@example.com'));

export const signUpSchema = z.object({
  orgName: z.string().trim().min(1, 'Enter your business name').max(200, 'Keep the business name under 200 characters'),
  name: z.string().trim().min(1, 'Enter your name').max(200, 'Keep your name under 200 characters'),
  email: emailField,
  password: z.string({ error: 'Choose a password' }).min(1, 'Choose a password').max(200, 'Keep the password under 200 characters'),
});
export type SignUpInput = z.infer<typeof signUpSchema>;

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
  password: z.string({ error: 'Choose a password' }).min(1, 'Choose a password').max(200, 'Keep the password under 200 characters'),
});
export type AcceptInvitationInput = z.infer<typeof acceptInvitationSchema>;

export const forgotPasswordSchema = z.object({ email: emailField });

export const resetPasswordSchema = z.object({
  password: z.string({ error: 'Choose a new password' }).min(1, 'Choose a new password').max(200, 'Keep the password under 200 characters'),
});

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
