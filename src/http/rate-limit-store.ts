// The rate limiters' store: counters in Redis so every web process enforces one
// limit, and in this process's memory while Redis is away, so an outage costs
// shared limits for a while instead of the portal and the login page.
import { MemoryStore, type ClientRateLimitInfo, type IncrementResponse, type Options, type Store } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { reportStoreRedisAnswered, reportStoreRedisFailure, usableStoreRedis } from '../queue/redis.js';

export class FailoverRateLimitStore implements Store {
  /** Keys live in Redis under this prefix, so two limiters never share a counter. */
  readonly prefix: string;
  readonly localKeys = false;
  private readonly shared: RedisStore;
  private readonly local = new MemoryStore();
  private options: Options | undefined;
  /**
   * The shared store's scripts must be (re)loaded before its next use: at first,
   * and after any failure (a load that failed during an outage would otherwise
   * fail every later call; an empty Redis answers NOSCRIPT, which the store handles).
   */
  private scriptsStale = true;

  constructor(prefix: string) {
    this.prefix = prefix;
    this.shared = new RedisStore({
      prefix,
      // Through usableStoreRedis, never the connection directly: it fails fast while Redis is away.
      sendCommand: (command: string, ...args: string[]) => {
        const redis = usableStoreRedis();
        if (!redis) return Promise.reject(new Error('Redis is not connected'));
        return redis.call(command, ...args) as Promise<RedisReply>;
      },
    });
  }

  init(options: Options): void {
    this.options = options;
    this.local.init(options);
  }

  /** Runs op on Redis when it is usable, else (or when it fails) on the in-process store. */
  private async either<T>(onShared: () => Promise<T>, onLocal: () => T | Promise<T>): Promise<T> {
    if (this.options && usableStoreRedis()) {
      try {
        if (this.scriptsStale) {
          this.scriptsStale = false;
          await this.shared.init(this.options);
        }
        const result = await onShared();
        reportStoreRedisAnswered();
        return result;
      } catch (err) {
        this.scriptsStale = true;
        reportStoreRedisFailure(err as Error);
      }
    }
    return onLocal();
  }

  get(key: string): Promise<ClientRateLimitInfo | undefined> {
    return this.either(
      () => this.shared.get(key),
      () => this.local.get(key),
    );
  }

  increment(key: string): Promise<IncrementResponse> {
    return this.either(
      () => this.shared.increment(key),
      () => this.local.increment(key),
    );
  }

  decrement(key: string): Promise<void> {
    return this.either(
      () => this.shared.decrement(key),
      () => this.local.decrement(key),
    );
  }

  /** Clears the key in both places, so a reset holds whichever store answers next. */
  async resetKey(key: string): Promise<void> {
    await this.local.resetKey(key);
    await this.either(
      () => this.shared.resetKey(key),
      () => undefined,
    );
  }

  shutdown(): void {
    this.local.shutdown();
  }
}
