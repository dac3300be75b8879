// Groups concurrent calls into one database transaction per key (org). Commits
// cost an fsync each, so a worker sending 50 messages at once claims and
// records them in a couple of transactions instead of a hundred. Each caller
// still waits for its own row's commit, so the outbox guarantees are unchanged.
export class KeyedBatcher<In, Out> {
  private pending = new Map<string, Array<{ item: In; resolve: (v: Out) => void; reject: (e: unknown) => void }>>();
  private running = new Set<string>();

  constructor(
    private readonly run: (key: string, items: In[]) => Promise<Out[]>,
    private readonly maxSize = 200,
  ) {}

  add(key: string, item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      const list = this.pending.get(key) ?? [];
      list.push({ item, resolve, reject });
      this.pending.set(key, list);
      // Flush on the next tick, or right after the batch in flight for this key.
      if (!this.running.has(key)) setImmediate(() => void this.flush(key));
    });
  }

  private async flush(key: string): Promise<void> {
    if (this.running.has(key)) return;
    const list = this.pending.get(key);
    if (!list?.length) return;
    const batch = list.splice(0, this.maxSize);
    if (!list.length) this.pending.delete(key);
    this.running.add(key);
    try {
      const results = await this.run(key, batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve(results[i]));
    } catch (err) {
      for (const b of batch) b.reject(err);
    } finally {
      this.running.delete(key);
      if (this.pending.get(key)?.length) void this.flush(key);
    }
  }
}
