import { isPlainObject, type RawObject } from './utils.js';

export class Sshkit {
  readonly sshkitConfig: RawObject;

  constructor(opts: { sshkitConfig: RawObject | null | undefined }) {
    this.sshkitConfig = isPlainObject(opts.sshkitConfig) ? opts.sshkitConfig : {};
  }

  get maxConcurrentStarts(): number {
    return this.sshkitConfig.max_concurrent_starts ?? 30;
  }

  get poolIdleTimeout(): number {
    return this.sshkitConfig.pool_idle_timeout ?? 900;
  }

  get dnsRetries(): number {
    return parseInt(String(this.sshkitConfig.dns_retries ?? 3), 10);
  }

  toH(): RawObject {
    return this.sshkitConfig;
  }
}
