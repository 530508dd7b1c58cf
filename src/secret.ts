import { inspect } from 'node:util';

export const REDACTED = '[REDACTED]';

/**
 * A secret value. It never renders as itself: string conversion, JSON and
 * util.inspect all give [REDACTED]. Only `reveal()` gives the value, and only
 * the executors call it when a command is actually run.
 */
export class Secret {
  readonly #value: string;
  readonly name: string | undefined;

  constructor(value: string, name?: string) {
    this.#value = value;
    this.name = name;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

export function isSecret(v: unknown): v is Secret {
  return v instanceof Secret;
}

/**
 * Replaces every occurrence of the given secret values in `text` with
 * [REDACTED]. Used on anything produced by a remote or local process
 * (stderr tails, logs) before it reaches a user.
 */
export function redactText(text: string, secrets: Iterable<string>): string {
  let out = text;
  const values = [...new Set([...secrets].filter((s) => s.length >= 3))].sort((a, b) => b.length - a.length);
  for (const v of values) {
    if (out.includes(v)) out = out.split(v).join(REDACTED);
    // also hide each line of multi-line secrets (PEMs, keys)
    if (v.includes('\n')) {
      for (const line of v.split('\n')) {
        if (line.trim().length >= 8 && out.includes(line)) out = out.split(line).join(REDACTED);
      }
    }
  }
  return out;
}

/** A registry of every secret value known to this run, for redaction of free text. */
export class SecretRegistry {
  readonly #values = new Set<string>();

  add(value: string | Secret | undefined): void {
    if (value === undefined) return;
    const v = typeof value === 'string' ? value : value.reveal();
    if (v.length > 0) this.#values.add(v);
  }

  values(): string[] {
    return [...this.#values];
  }

  redact(text: string): string {
    return redactText(text, this.#values);
  }
}

/** Read access to the resolved secrets (`.kamal/secrets*`, action inputs). */
export interface SecretStore {
  /** The secret, or undefined when it is not defined. */
  get(key: string): Secret | undefined;
  /** Every defined key, in definition order. */
  keys(): string[];
  /** The message for a key that is not defined (names the files looked in). */
  missing?(key: string): string;
}

/** A SecretStore over a plain map; used by the action input layer and by tests. */
export class MapSecretStore implements SecretStore {
  readonly #map: Map<string, Secret>;
  constructor(values: Record<string, string> | Map<string, string> = {}) {
    const entries = values instanceof Map ? [...values.entries()] : Object.entries(values);
    this.#map = new Map(entries.map(([k, v]) => [k, new Secret(v, k)]));
  }
  get(key: string): Secret | undefined {
    return this.#map.get(key);
  }
  keys(): string[] {
    return [...this.#map.keys()];
  }
}
