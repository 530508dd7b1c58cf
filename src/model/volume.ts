import { cat, raw, type Word } from '../shell.js';
import { isPresent } from './utils.js';

/** A bind mount; relative host paths are relative to the SSH user's working directory (`$PWD`). */
export class Volume {
  readonly hostPath: string;
  readonly containerPath: string;
  readonly options: string | undefined;

  constructor(opts: { hostPath: string; containerPath: string; options?: string | null }) {
    this.hostPath = opts.hostPath;
    this.containerPath = opts.containerPath;
    this.options = opts.options ?? undefined;
  }

  dockerArgs(): Word[] {
    return ['--volume', this.dockerArgsWord()];
  }

  /** Kamal's `docker_args_string` as text (relative paths prefixed with `$PWD/`). */
  dockerArgsString(): string {
    return `${this.hostPathForDockerVolume()}:${this.containerPath}${isPresent(this.options) ? `:${this.options}` : ''}`;
  }

  dockerArgsWord(): Word {
    const rest = `${this.containerPath}${isPresent(this.options) ? `:${this.options}` : ''}`;
    if (this.hostPath.startsWith('/')) return `${this.hostPath}:${rest}`;
    return cat(raw('$PWD/'), `${this.hostPath}:${rest}`);
  }

  private hostPathForDockerVolume(): string {
    return this.hostPath.startsWith('/') ? this.hostPath : `$PWD/${this.hostPath}`;
  }
}
