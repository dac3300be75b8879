// What every background job's starter returns, shared by workers/ and the web
// process (which runs the same jobs in development without Redis).

/** A started worker (or scheduler) and how to stop it. */
export interface RunningWorker {
  name: string;
  /** Stops taking jobs and waits for the ones in flight. */
  close: () => Promise<void>;
}
