// Two transactions interleaved on purpose: one holds its locks open while another comes to them. The positive
// signal that the second reached the lock is Postgres's own (pg_blocking_pids), not a sleep.
import type { Knex } from 'knex';
import { getDb } from '../../src/db/knex.js';
import { withOrg, type Db } from '../../src/db/tenancy.js';

/** The Postgres backend a transaction runs on. */
export async function backendPid(db: Knex | Knex.Transaction): Promise<number> {
  const { rows } = await db.raw<{ rows: { pid: number }[] }>('select pg_backend_pid() as pid');
  return rows[0].pid;
}

/** True once some backend waits on a lock `pid` holds; false if none does within `timeoutMs`. */
export async function waitUntilBlockedBy(pid: number, timeoutMs = 10_000): Promise<boolean> {
  for (const until = Date.now() + timeoutMs; Date.now() < until; await new Promise((r) => setTimeout(r, 20))) {
    const waiting = await getDb().raw<{ rows: unknown[] }>('select pid from pg_stat_activity where ? = any(pg_blocking_pids(pid))', [pid]);
    if (waiting.rows.length > 0) return true;
  }
  return false;
}

/**
 * The positive signal either way when `other` should queue behind `pid`'s locks: 'waiting' once it does,
 * 'finished' if it settles first (it never waited), 'never blocked' after the timeout.
 */
export function waitsOn(pid: number, other: Promise<unknown>): Promise<'waiting' | 'finished' | 'never blocked'> {
  return Promise.race([
    other.then(() => 'finished' as const),
    waitUntilBlockedBy(pid).then((blocked) => (blocked ? ('waiting' as const) : ('never blocked' as const))),
  ]);
}

export interface HeldTransaction<T> {
  /** Resolves once `work` has run, with its backend and result; the transaction is still open. */
  ready: Promise<{ pid: number; result: T }>;
  /** Lets the transaction commit. */
  release: () => void;
  /** The transaction's end: its result once committed, or its error. */
  done: Promise<T>;
}

/** Runs `work` in one org's transaction and keeps that transaction (and its locks) open until `release()`. */
export function holdOpen<T>(orgId: string, work: (db: Db) => Promise<T>): HeldTransaction<T> {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let ran!: (value: { pid: number; result: T }) => void;
  const ready = new Promise<{ pid: number; result: T }>((resolve) => (ran = resolve));
  const done = withOrg(orgId, async (db) => {
    const result = await work(db);
    ran({ pid: await backendPid(db), result });
    await held;
    return result;
  });
  // A failing `work` never reaches `ready`: end it with the transaction's error.
  return { ready: Promise.race([ready, done.then(() => ready)]), release, done };
}
