import { Secret, type SecretStore } from '../secret.js';
import { isPlainObject, isPresent, type RawObject } from './utils.js';

export type SshProxy = { type: 'jump'; jumpProxies: string } | { type: 'command'; commandLineTemplate: string };

export class Ssh {
  readonly sshConfig: RawObject;
  readonly secrets: SecretStore;

  constructor(opts: { sshConfig: RawObject | null | undefined; secrets: SecretStore }) {
    this.sshConfig = isPlainObject(opts.sshConfig) ? opts.sshConfig : {};
    this.secrets = opts.secrets;
  }

  get user(): string {
    return this.sshConfig.user ?? 'root';
  }

  get port(): number | string {
    return this.sshConfig.port ?? 22;
  }

  get proxy(): SshProxy | undefined {
    const proxy = this.sshConfig.proxy;
    if (proxy) return { type: 'jump', jumpProxies: String(proxy).includes('@') ? String(proxy) : `root@${proxy}` };
    const command = this.sshConfig.proxy_command;
    if (command) return { type: 'command', commandLineTemplate: String(command) };
    return undefined;
  }

  get keysOnly(): boolean | undefined {
    return this.sshConfig.keys_only ?? undefined;
  }

  get keys(): string[] | undefined {
    return this.sshConfig.keys ?? undefined;
  }

  /** Private keys: secrets named in `key_data`, or (deprecated) inline keys; all returned as Secrets. */
  get keyData(): Secret[] | undefined {
    const data = this.sshConfig.key_data;
    if (!Array.isArray(data)) return undefined;
    return data.map((k: string) => {
      const s = this.secrets.get(k);
      if (s !== undefined && isPresent(s.reveal())) return s;
      return new Secret(String(k), 'ssh key_data');
    });
  }

  /** True when `key_data` holds inline keys rather than secret names (Kamal warns about this). */
  get usesInlineKeyData(): boolean {
    const data = this.sshConfig.key_data;
    if (!Array.isArray(data)) return false;
    return data.some((k: string) => {
      const s = this.secrets.get(k);
      return s === undefined || !isPresent(s.reveal());
    });
  }

  /** `true` (default ssh config), `false` (ignore it), a file or files. */
  get config(): boolean | string | string[] | undefined {
    return this.sshConfig.config ?? undefined;
  }

  get forwardAgent(): boolean | undefined {
    return this.sshConfig.forward_agent ?? undefined;
  }

  get logLevel(): string {
    return String(this.sshConfig.log_level ?? 'fatal');
  }

  /** Kamal's `options` (Net::SSH options) without the logger. */
  options(): {
    user: string;
    port: number | string;
    proxy?: SshProxy;
    keepalive: true;
    keepaliveInterval: number;
    keysOnly?: boolean;
    keys?: string[];
    keyData?: Secret[];
    config?: boolean | string | string[];
    forwardAgent?: boolean;
    logLevel: string;
  } {
    const out: ReturnType<Ssh['options']> = { user: this.user, port: this.port, keepalive: true, keepaliveInterval: 30, logLevel: this.logLevel };
    if (this.proxy) out.proxy = this.proxy;
    if (this.keysOnly !== undefined) out.keysOnly = this.keysOnly;
    if (this.keys !== undefined) out.keys = this.keys;
    if (this.keyData !== undefined) out.keyData = this.keyData;
    if (this.config !== undefined) out.config = this.config;
    if (this.forwardAgent !== undefined) out.forwardAgent = this.forwardAgent;
    return out;
  }
}
