/** Runs `fn` for every item with at most `limit` running at once; waits for all; throws a combined error. */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  const errors: { item: T; error: unknown }[] = [];
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      const item = items[i]!;
      try {
        await fn(item, i);
      } catch (error) {
        errors.push({ item, error });
      }
    }
  });
  await Promise.all(workers);
  if (errors.length === 1) throw errors[0]!.error;
  if (errors.length > 1) throw new MultiError(errors.map((e) => e.error));
}

/** Several hosts or roles failed at once. The first error leads the message. */
export class MultiError extends Error {
  readonly errors: unknown[];
  constructor(errors: unknown[]) {
    const messages = errors.map((e) => (e instanceof Error ? e.message : String(e)));
    super(`${errors.length} failures:\n${messages.map((m) => `- ${m.replace(/\n/g, '\n  ')}`).join('\n')}`);
    this.name = 'MultiError';
    this.errors = errors;
  }
}

/** A one-shot latch (Kamal's healthcheck barrier): the first of open/close wins. */
export class Barrier {
  #settled = false;
  #value = false;
  #resolve!: (v: boolean) => void;
  readonly #promise = new Promise<boolean>((resolve) => {
    this.#resolve = resolve;
  });

  /** Returns true when this call decided the barrier. */
  open(): boolean {
    return this.#set(true);
  }
  close(): boolean {
    return this.#set(false);
  }
  /** Resolves when decided; throws when closed. */
  async wait(): Promise<void> {
    if (!(await this.#promise)) throw new BarrierClosedError();
  }
  get isOpen(): boolean {
    return this.#settled && this.#value;
  }
  #set(v: boolean): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#value = v;
    this.#resolve(v);
    return true;
  }
}

export class BarrierClosedError extends Error {
  constructor() {
    super('Halted at barrier');
    this.name = 'BarrierClosedError';
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
