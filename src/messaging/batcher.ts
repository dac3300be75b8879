// Groups concurrent calls into one database transaction per key (org). Commits
// cost an fsync each, so a worker sending many messages at once claims and
// records them in a few transactions instead of one each. Each caller still
// waits for its own row's commit, so the outbox guarantees are unchanged.
//
// Up to `maxInFlight` batches per key run at once: with a single batch at a
// time every caller would wait for the batch ahead of it to commit and then for
// its own; a few overlapping transactions hide that wait while batches stay
// large enough to share commits.
export class KeyedBatcher<In, Out> {
  private pending = new Map<string, Array<{ item: In; resolve: (v: Out) => void; reject: (e: unknown) => void }>>();
  private inFlight = new Map<string, number>();
  private scheduled = new Set<string>();

  constructor(
    private readonly run: (key: string, items: In[]) => Promise<Out[]>,
    private readonly options: { maxSize?: number; maxInFlight?: number } = {},
  ) {}

  add(key: string, item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      const list = this.pending.get(key) ?? [];
      list.push({ item, resolve, reject });
      this.pending.set(key, list);
      this.schedule(key);
    });
  }

  /** Flushes on the next turn of the event loop (so callers arriving in this one share the batch), if a slot is free. */
  private schedule(key: string): void {
    if (this.scheduled.has(key) || (this.inFlight.get(key) ?? 0) >= (this.options.maxInFlight ?? 1)) return;
    this.scheduled.add(key);
    setImmediate(() => {
      this.scheduled.delete(key);
      void this.flush(key);
    });
  }

  private async flush(key: string): Promise<void> {
    const running = this.inFlight.get(key) ?? 0;
    if (running >= (this.options.maxInFlight ?? 1)) return;
    const list = this.pending.get(key);
    if (!list?.length) return;
    const batch = list.splice(0, this.options.maxSize ?? 200);
    if (!list.length) this.pending.delete(key);
    this.inFlight.set(key, running + 1);
    try {
      const results = await this.run(
        key,
        batch.map((b) => b.item),
      );
      batch.forEach((b, i) => b.resolve(results[i]));
    } catch (err) {
      for (const b of batch) b.reject(err);
    } finally {
      const left = (this.inFlight.get(key) ?? 1) - 1;
      if (left > 0) this.inFlight.set(key, left);
      else this.inFlight.delete(key);
      if (this.pending.get(key)?.length) this.schedule(key);
    }
  }
}
