/** Builds the local arch here and the other on the remote builder (Kamal::Commands::Builder::Hybrid). */
import { combine, type Command, type SimpleCommand } from '../../shell.js';
import { docker } from '../base.js';
import type { BuilderName } from './base.js';
import { RemoteBuilder } from './remote.js';

export class HybridBuilder extends RemoteBuilder {
  override readonly name: BuilderName = 'hybrid';

  override create(): Command {
    return combine(this.createLocalBuildx(), this.createRemoteContext(), this.appendRemoteBuildx());
  }

  override builderName(): string {
    return `kamal-hybrid-${this.builderConfig.driver}-${this.remoteBuilderNameSuffix()}`;
  }

  override withoutBuildxProblem(): [string, string] {
    const local = this.builderConfig.localArches.map((a) => `linux/${a}`).join(', ');
    const remote = this.builderConfig.remoteArches.map((a) => `linux/${a}`).join(', ');
    return [
      'builder/remote',
      `building ${local} here and ${remote} on ${this.remote} into one image needs docker buildx, which is not installed here (or set builder.local: false to build on the remote host only)`,
    ];
  }

  private createLocalBuildx(): SimpleCommand {
    return docker(
      'buildx',
      'create',
      this.platformOptions(this.builderConfig.localArches),
      '--name',
      this.builderName(),
      `--driver=${this.builderConfig.driver}`,
      this.driverOptions(),
    );
  }

  private appendRemoteBuildx(): SimpleCommand {
    return docker(
      'buildx',
      'create',
      this.platformOptions(this.builderConfig.remoteArches),
      '--append',
      '--name',
      this.builderName(),
      this.driverOptions(),
      this.remoteContextName(),
    );
  }
}
