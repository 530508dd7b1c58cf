/** Builds on a remote Docker host through a docker context (Kamal::Commands::Builder::Remote). */
import { any, chain, cmd, combine, group, pipe, type Command, type SimpleCommand } from '../../shell.js';
import { docker } from '../base.js';
import { BuilderBase, ENDPOINT_DOCKER_HOST_INSPECT, type BuilderName } from './base.js';

export class RemoteBuilder extends BuilderBase {
  readonly name: BuilderName = 'remote';

  create(): Command | undefined {
    return chain(this.createRemoteContext(), this.createBuildx());
  }

  remove(): Command | undefined {
    return chain(this.removeRemoteContext(), this.removeBuildx());
  }

  override info(): Command {
    return chain(docker('context', 'ls'), docker('buildx', 'ls'));
  }

  override inspectBuilder(): Command {
    return any(combine(this.inspectBuildx(), this.inspectRemoteContext()), group(combine(cmd('echo', 'no', 'compatible', 'builder'), cmd('exit', '1'))));
  }

  override get loginToRegistryLocally(): boolean {
    return false;
  }

  override pushEnv(): Record<string, string> {
    return { BUILDKIT_NO_CLIENT_TOKEN: '1' };
  }

  builderName(): string {
    return `kamal-remote-${this.remoteBuilderNameSuffix()}`;
  }

  remoteContextName(): string {
    return `${this.builderName()}-context`;
  }

  protected get remote(): string {
    return this.builderConfig.remote ?? '';
  }

  protected remoteBuilderNameSuffix(): string {
    return `${this.remote.replace(/[^a-z0-9_-]/g, '-')}${this.config.registry.local ? '-local-registry' : ''}`;
  }

  private inspectBuildx(): Command {
    return pipe(docker('buildx', 'inspect', this.builderName()), cmd('grep', '-q', `Endpoint:.*${this.remoteContextName()}`));
  }

  private inspectRemoteContext(): Command {
    return pipe(docker('context', 'inspect', this.remoteContextName(), '--format', ENDPOINT_DOCKER_HOST_INSPECT), cmd('grep', '-xq', this.remote));
  }

  protected createRemoteContext(): SimpleCommand {
    return docker('context', 'create', this.remoteContextName(), '--description', `${this.builderName()} host`, '--docker', `host=${this.remote}`);
  }

  private removeRemoteContext(): SimpleCommand {
    return docker('context', 'rm', this.remoteContextName());
  }

  private createBuildx(): SimpleCommand {
    return docker('buildx', 'create', '--name', this.builderName(), this.driverOptions(), this.remoteContextName());
  }

  private removeBuildx(): SimpleCommand {
    return docker('buildx', 'rm', this.builderName());
  }

  /** Without buildx, the build runs on the remote engine through the same docker context Kamal creates. */
  override fallbackPrepare(): { check: Command; create: Command } {
    return { check: this.inspectRemoteContext(), create: this.createRemoteContext() };
  }

  protected override fallbackGlobalOptions(): string[] {
    return ['--context', this.remoteContextName()];
  }

  protected override fallbackArches(): string[] {
    return this.builderConfig.remoteArches;
  }

  override withoutBuildxProblem(localArch: string): [string, string] | undefined {
    const arches = this.fallbackArches();
    if (arches.length > 1) return super.withoutBuildxProblem(localArch);
    return undefined;
  }
}
