import { ConfigError } from '../errors.js';
import type { Secret, SecretStore } from '../secret.js';
import type { Word } from '../shell.js';
import { EnvFile } from './env-file.js';
import { argumentize, isPlainObject, type RawObject } from './utils.js';

/** Looks a secret up; a missing secret is a configuration error (raised when the value is needed). */
export function fetchSecret(secrets: SecretStore, key: string): Secret {
  const value = secrets.get(key);
  if (value === undefined) throw new ConfigError(secrets.missing?.(key) ?? `Secret '${key}' not found`);
  return value;
}

/** Environment variables: `clear` values and `secret` keys (with `NAME:SECRET` aliases). */
export class Env {
  readonly clear: Record<string, unknown>;
  readonly secretKeys: string[];
  readonly secrets: SecretStore;
  readonly context: string;

  constructor(opts: { config: RawObject | null | undefined; secrets: SecretStore; context?: string }) {
    const config = opts.config ?? {};
    const complex = 'clear' in config || 'secret' in config || 'tags' in config;
    const clear = 'clear' in config ? config.clear : complex ? {} : config;
    this.clear = isPlainObject(clear) ? { ...clear } : {};
    this.secretKeys = Array.isArray(config.secret) ? config.secret.map(String) : [];
    this.secrets = opts.secrets;
    this.context = opts.context ?? 'env';
  }

  clearArgs(): Word[] {
    return argumentize('--env', this.clear);
  }

  /** The secrets env file content (Kamal's `secrets_io`). */
  secretsIo(): Secret {
    return new EnvFile(this.aliasedSecrets()).content();
  }

  merge(other: Env): Env {
    const keys = [...this.secretKeys];
    for (const k of other.secretKeys) if (!keys.includes(k)) keys.push(k);
    return new Env({ config: { clear: { ...this.clear, ...other.clear }, secret: keys }, secrets: this.secrets });
  }

  /** Clear values and secrets together (secret values stay Secrets). */
  toH(): Map<string, unknown> {
    const out = new Map<string, unknown>(Object.entries(this.clear));
    for (const [k, v] of this.aliasedSecrets()) out.set(k, v);
    return out;
  }

  /** `[name, secret]` pairs, resolving `NAME:SECRET_KEY` aliases. */
  aliasedSecrets(): Map<string, Secret> {
    const out = new Map<string, Secret>();
    for (const key of this.secretKeys) {
      const idx = key.indexOf(':');
      const [name, aliasTo] = idx >= 0 ? [key.slice(0, idx), key.slice(idx + 1)] : [key, key];
      out.set(name, fetchSecret(this.secrets, aliasTo));
    }
    return out;
  }

  /** Secret names this env reads from the secret store. */
  secretNames(): string[] {
    return this.secretKeys.map((key) => {
      const idx = key.indexOf(':');
      return idx >= 0 ? key.slice(idx + 1) : key;
    });
  }
}

/** An env tag: extra env applied to hosts carrying the tag. */
export class EnvTag {
  readonly name: string;
  readonly config: RawObject;
  readonly secrets: SecretStore;

  constructor(name: string, opts: { config: RawObject; secrets: SecretStore }) {
    this.name = name;
    this.config = opts.config ?? {};
    this.secrets = opts.secrets;
  }

  get env(): Env {
    return new Env({ config: this.config, secrets: this.secrets });
  }
}
