/** Image and container pruning (Kamal::Commands::Prune). */
import { cat, cmd, pipe, raw, sub, type Command, type SimpleCommand } from '../shell.js';
import { Base, docker } from './base.js';

export class Prune extends Base {
  danglingImages(): SimpleCommand {
    return docker('image', 'prune', '--force', '--filter', `label=service=${this.config.service}`);
  }

  taggedImages(): Command {
    return pipe(
      docker('image', 'ls', this.serviceFilter(), '--format', '{{.ID}} {{.Repository}}:{{.Tag}}'),
      cmd('grep', '-v', '-w', this.activeImageList()),
      cmd(raw('while read image tag; do docker rmi $tag; done')),
    );
  }

  /** Removes stopped app containers beyond the newest `retain`. */
  appContainers(retain: number | { retain: number }): Command {
    const keep = typeof retain === 'number' ? retain : retain.retain;
    return pipe(
      docker('ps', '-q', '-a', this.serviceFilter(), this.stoppedContainersFilters()),
      cmd('tail', '-n', `+${keep + 1}`),
      cmd(raw('while read container_id; do docker rm $container_id; done')),
    );
  }

  private stoppedContainersFilters(): string[] {
    return ['created', 'exited', 'dead'].flatMap((s) => ['--filter', `status=${s}`]);
  }

  // Images used by any container, plus repo:latest and repo:<none> (dangling images in use).
  private activeImageList() {
    const inUse = docker('container', 'ls', '-a', '--format', '{{.Image}}\\|', '--filter', `label=service=${this.config.service}`);
    return cat(raw('"'), sub(pipe(inUse, cmd('tr', '-d', '\\n'))), raw('"'), `${this.config.latestImage}\\|${this.config.repository}:<none>`);
  }

  private serviceFilter(): string[] {
    return ['--filter', `label=service=${this.config.service}`];
  }
}
