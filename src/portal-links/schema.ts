// Query string of Settings → Customer Portal.
import { z } from 'zod';

export const settingsQuery = z.object({
  stale: z
    .enum(['1', '0', ''])
    .optional()
    .transform((v) => v === '1'),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
});
