// Query string of Settings → Customer Portal.
import { z } from 'zod';

export const settingsQuery = z.object({
  stale: z
    .enum(['1', '0', ''])
    .optional()
    .transform((v) => v === '1'),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
});

/** A link lifetime from a form: "never", "30", "90" or "365" (days). */
export const lifetimeForm = z.object({
  lifetime: z
    .enum(['never', '30', '90', '365'], { message: 'settings:portal.error.lifetime' })
    .transform((v) => (v === 'never' ? null : (Number(v) as 30 | 90 | 365))),
});
