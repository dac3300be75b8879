// Errors that carry their HTTP status and a stable id (the error handler logs those of 500 and up).
export class HttpError extends Error {
  constructor(
    public readonly status: number,
    public readonly id: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const notFound = (message = 'common:errors.notFound') => new HttpError(404, 'not_found', message);
export const forbidden = (message = 'common:errors.forbidden') => new HttpError(403, 'forbidden', message);
export const conflict = (message: string) => new HttpError(409, 'conflict', message);
/**
 * A rule the user's input broke, with messages per form field. Services throw it
 * before or instead of writing; page handlers re-render the form with it.
 */
export class FormError extends Error {
  constructor(
    public readonly fields: Record<string, string>,
    message = Object.values(fields)[0] ?? 'common:errors.checkForm',
  ) {
    super(message);
    this.name = 'FormError';
  }
}

export const fieldError = (field: string, message: string) => new FormError({ [field]: message }, message);
