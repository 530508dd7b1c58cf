/** A counting semaphore whose limit can be lowered while in use. */
export class Semaphore {
  #limit: number;
  #inUse = 0;
  readonly #queue: { grant: () => void; fail: (err: unknown) => void }[] = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`semaphore limit must be a positive integer, got ${limit}`);
    this.#limit = limit;
  }

  get limit(): number {
    return this.#limit;
  }

  get inUse(): number {
    return this.#inUse;
  }

  get waiting(): number {
    return this.#queue.length;
  }

  setLimit(limit: number): void {
    this.#limit = Math.max(1, Math.floor(limit));
    this.#pump();
  }

  /** Resolves with a release function once a permit is free. Rejects if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      let done = false;
      const onAbort = (): void => {
        if (done) return;
        done = true;
        const i = this.#queue.indexOf(entry);
        if (i >= 0) this.#queue.splice(i, 1);
        reject(abortReason(signal!));
      };
      const entry = {
        grant: () => {
          done = true;
          signal?.removeEventListener('abort', onAbort);
          resolve(this.#releaser());
        },
        fail: (err: unknown) => {
          done = true;
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(entry);
      this.#pump();
    });
  }

  async use<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Rejects every waiter. */
  failAll(err: unknown): void {
    for (const e of this.#queue.splice(0)) e.fail(err);
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inUse--;
      this.#pump();
    };
  }

  #pump(): void {
    while (this.#inUse < this.#limit && this.#queue.length > 0) {
      const next = this.#queue.shift()!;
      this.#inUse++;
      next.grant();
    }
  }
}

export function abortReason(signal: AbortSignal): unknown {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  const err = new Error(typeof r === 'string' ? r : 'aborted');
  err.name = 'AbortError';
  return err;
}
