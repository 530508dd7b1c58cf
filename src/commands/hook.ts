/** Local hook scripts (Kamal::Commands::Hook). */
import type { Configuration } from '../model/configuration.js';
import type { Secret } from '../secret.js';
import { cmd, type SimpleCommand } from '../shell.js';
import { Base } from './base.js';
import { Tags, type TagSource, type TagValue } from './tags.js';

export class Hook extends Base {
  constructor(config: Configuration) {
    super(config);
  }

  /** The hook script as a local command. */
  run(hook: string): SimpleCommand {
    return cmd(this.hookFile(hook));
  }

  /** `KAMAL_*` variables for a hook, plus every secret when `secrets` is set (as Secrets). */
  env(source: TagSource, opts: { secrets?: boolean; details?: Record<string, TagValue> } = {}): Record<string, string | Secret> {
    const env: Record<string, string | Secret> = Tags.fromConfig(this.config, source, opts.details ?? {}).env();
    if (opts.secrets) {
      for (const key of this.config.secrets.keys()) {
        const value = this.config.secrets.get(key);
        if (value !== undefined) env[key] = value;
      }
    }
    return env;
  }

  /** `<hooks_path>/<hook>` */
  hookFile(hook: string): string {
    return `${this.config.hooksPath.replace(/\/+$/, '')}/${hook}`;
  }
}
