import type { Word } from '../shell.js';
import { argumentize, deepMerge, isPlainObject, isPresent, optionize, type RawObject } from './utils.js';

export class Logging {
  readonly loggingConfig: RawObject;

  constructor(opts: { loggingConfig: RawObject | null | undefined; context?: string }) {
    this.loggingConfig = isPlainObject(opts.loggingConfig) ? opts.loggingConfig : {};
  }

  get driver(): string | undefined {
    return this.loggingConfig.driver ?? undefined;
  }

  get options(): RawObject {
    return this.loggingConfig.options ?? {};
  }

  merge(other: Logging): Logging {
    return new Logging({ loggingConfig: deepMerge(this.loggingConfig, other.loggingConfig) });
  }

  args(): Word[] {
    if (isPresent(this.driver) || isPresent(this.options)) {
      const driver: RawObject = this.driver !== undefined && this.driver !== null ? { 'log-driver': this.driver } : {};
      return [...optionize(driver), ...argumentize('--log-opt', this.options)];
    }
    return argumentize('--log-opt', { 'max-size': '10m' });
  }
}
