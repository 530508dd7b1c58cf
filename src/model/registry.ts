import type { Secret, SecretStore } from '../secret.js';
import { fetchSecret } from './env.js';
import { asSecret, isPlainObject, type RawObject } from './utils.js';

export class Registry {
  readonly registryConfig: RawObject;
  readonly secrets: SecretStore;
  readonly context: string;

  /** `config` is the object holding a `registry` key (the root config or an accessory). */
  constructor(opts: { config: RawObject; secrets: SecretStore; context?: string }) {
    this.registryConfig = isPlainObject(opts.config.registry) ? opts.config.registry : {};
    this.secrets = opts.secrets;
    this.context = opts.context ?? 'registry';
  }

  get server(): string | undefined {
    return this.registryConfig.server ?? undefined;
  }

  /** The username: a literal, or a Secret when configured as `[SECRET_NAME]`. */
  get username(): string | Secret | undefined {
    return this.lookup('username');
  }

  /** The password, always a Secret (literal passwords are wrapped too). */
  get password(): Secret | undefined {
    const v = this.lookup('password');
    return v === undefined ? undefined : asSecret(v, 'registry password');
  }

  /** A registry on the deploy host itself (`localhost:PORT`), reached through an SSH tunnel. */
  get local(): boolean {
    return /^localhost[:$]/.test(this.server ?? '');
  }

  get localPort(): number | undefined {
    if (!this.local) return undefined;
    const n = parseInt(this.server!.split(':').pop() ?? '', 10);
    return Number.isNaN(n) ? 0 : n;
  }

  private lookup(key: string): string | Secret | undefined {
    const value = this.registryConfig[key];
    if (Array.isArray(value)) return fetchSecret(this.secrets, String(value[0]));
    if (value === undefined || value === null) return undefined;
    return String(value);
  }
}
