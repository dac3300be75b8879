// Form input: zod issues as per-field messages, and the values to put back in a re-rendered form.
import { z } from 'zod';
import { FormError } from './errors.js';

/**
 * A form field sent as an object or a list (`name[key]=x`, `name[]=a`) where one
 * value belongs: one plain message for every schema, instead of zod's
 * "expected string, received object". Schemas' own messages still come first.
 */
z.config({
  customError: (issue) => {
    const input: unknown = issue.input;
    const shaped = typeof input === 'object' && input !== null;
    if (shaped && (issue.code === 'invalid_type' || issue.code === 'invalid_value')) {
      return Array.isArray(input) ? 'common:errors.oneValueNotList' : 'common:errors.oneValueNotGroup';
    }
    return undefined;
  },
});

export function fieldErrors(error: z.ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.length ? issue.path.join('.') : '_form';
    fields[key] ??= issue.message;
  }
  return fields;
}

/** Parses input or throws a FormError naming the first problem of each field. */
export function parseForm<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new FormError(fieldErrors(result.error));
  return result.data;
}

/** What the user typed, to show again after a refusal: never the CSRF token or a password. */
export function formValues(body: unknown): Record<string, unknown> {
  const { _csrf: _token, password: _password, ...values } = (body ?? {}) as Record<string, unknown>;
  return values;
}

/** The message the customer sees on a proposal or invoice. */
export const customerMessageField = z.string().trim().max(5000, 'common:errors.atMost5000').default('');

/** Notes only the business sees. */
export const internalNotesField = z.string().trim().max(10_000, 'common:errors.atMost10000').default('');
