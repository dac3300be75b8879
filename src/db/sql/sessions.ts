// Sessions (connect-pg-simple's table) belong to no org.
import { getDb } from '../knex.js';

/** Ends every session of a user (a password change must log out whoever held one). */
export async function deleteSessionsOf(userId: string): Promise<number> {
  return getDb()('sessions').whereRaw("sess->>'userId' = ?", [userId]).del();
}
