import { isPlainObject, type RawObject } from './utils.js';

export class Boot {
  readonly bootConfig: RawObject;
  readonly hostCount: number;

  constructor(opts: { bootConfig: RawObject | null | undefined; hostCount: number }) {
    this.bootConfig = isPlainObject(opts.bootConfig) ? opts.bootConfig : {};
    this.hostCount = opts.hostCount;
  }

  /** Hosts booted at a time; `"25%"` is a share of all hosts (at least 1). */
  get limit(): number | undefined {
    const limit = this.bootConfig.limit;
    if (limit === undefined || limit === null) return undefined;
    if (String(limit).endsWith('%')) {
      return Math.max(Math.floor((this.hostCount * (parseInt(String(limit), 10) || 0)) / 100), 1);
    }
    return typeof limit === 'number' ? limit : parseInt(String(limit), 10);
  }

  /** Seconds to wait between groups. */
  get wait(): number | undefined {
    return this.bootConfig.wait ?? undefined;
  }

  get parallelRoles(): boolean | undefined {
    return this.bootConfig.parallel_roles ?? undefined;
  }
}
