// One place that turns zod issues into per-field messages for forms and JSON.
import type { z } from 'zod';
import { FormError } from './errors.js';

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
