// Instants computed by the database's clock, so expiry checks (`expires_at > now()`)
// and the times they are compared with come from one clock.
import type { Knex } from 'knex';

/** now() + seconds, for an insert or update value. */
export function nowPlusSeconds(db: Knex, seconds: number): Knex.Raw {
  return db.raw('now() + make_interval(secs => ?)', [seconds]);
}

/** now() − seconds, for a where clause. */
export function nowMinusSeconds(db: Knex, seconds: number): Knex.Raw {
  return db.raw('now() - make_interval(secs => ?)', [seconds]);
}
