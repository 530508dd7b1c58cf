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

/** Values shorter than this are not searched for (they would hide ordinary words). */
const MIN_SECRET_LENGTH = 3;
/** Lines of a multi-line value shorter than this are not searched for on their own. */
const MIN_LINE_LENGTH = 8;

/**
 * Base64 of the value on its own (padded, unpadded, URL-safe), and the characters that
 * encode only the value's bits when it sits at any offset inside a longer base64 text
 * (`printf 'user:%s' "$PASSWORD" | base64`).
 */
function base64Forms(v: string): string[] {
  const bytes = Buffer.from(v, 'utf8');
  const b64 = bytes.toString('base64');
  const out = [b64, b64.replace(/=+$/, ''), bytes.toString('base64url')];
  for (let k = 0; k < 3; k++) {
    const padded = Buffer.concat([Buffer.alloc(k), bytes, Buffer.alloc(3)]).toString('base64');
    const first = Math.ceil((8 * k) / 6);
    const last = Math.floor((8 * (k + bytes.length)) / 6);
    const inner = padded.slice(first, last);
    if (inner.length >= 6) out.push(inner, inner.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

/**
 * Every form in which we or a program we run may print `value`: as is, JSON-escaped,
 * base64 (padded, unpadded, URL-safe), URL-encoded (%20 and + for spaces), shell-quoted
 * (single quotes, backslashes), and for a multi-line value each line (trimmed) with the
 * same forms. Forms equal to the value are not repeated; short forms are left out.
 */
export function secretForms(value: string): string[] {
  const out = new Set<string>();
  const add = (v: string, min: number): void => {
    if (v.length < min) return;
    out.add(v);
    out.add(JSON.stringify(v).slice(1, -1));
    for (const b of base64Forms(v)) if (b.length >= min) out.add(b);
    const url = encodeURIComponent(v);
    out.add(url);
    out.add(url.replace(/%20/g, '+'));
    out.add(url.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
    if (v.includes("'")) out.add(v.replace(/'/g, `'\\''`));
    const backslashed = v.replace(/[^A-Za-z0-9_\-.,:+/@\n]/g, '\\$&');
    if (backslashed !== v) out.add(backslashed);
  };
  if (value.trim() === '') return [];
  add(value, MIN_SECRET_LENGTH);
  if (/[\r\n]/.test(value)) {
    for (const line of value.split(/\r?\n/)) {
      const t = line.trim();
      if (t !== '') add(t, MIN_LINE_LENGTH);
    }
  }
  return [...out].filter((f) => f.length >= MIN_SECRET_LENGTH);
}

/** Every form of every value, longest first (so a value is replaced before any part of it). */
function searchList(secrets: Iterable<string>): string[] {
  const all = new Set<string>();
  for (const s of secrets) for (const f of secretForms(s)) all.add(f);
  return [...all].sort((a, b) => b.length - a.length);
}

function replaceAll(text: string, forms: readonly string[]): string {
  let out = text;
  for (const f of forms) if (out.includes(f)) out = out.split(f).join(REDACTED);
  return out;
}

/**
 * Replaces every occurrence of the given secret values in `text` with
 * [REDACTED], in each form secretForms gives. Used on anything produced by a
 * remote or local process (stderr tails, logs) before it reaches a user.
 */
export function redactText(text: string, secrets: Iterable<string>): string {
  return replaceAll(text, searchList(secrets));
}

/** A registry of every secret value known to this run, for redaction of free text. */
export class SecretRegistry {
  readonly #values = new Set<string>();
  #forms: string[] | undefined;

  add(value: string | Secret | undefined): void {
    if (value === undefined) return;
    const v = typeof value === 'string' ? value : value.reveal();
    if (v.length > 0 && !this.#values.has(v)) {
      this.#values.add(v);
      this.#forms = undefined;
    }
  }

  values(): string[] {
    return [...this.#values];
  }

  redact(text: string): string {
    this.#forms ??= searchList(this.#values);
    return replaceAll(text, this.#forms);
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
